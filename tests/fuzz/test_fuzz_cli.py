"""Argument lists for ``lepton-nb``: called in-process, every one exits 0 or 2 with no traceback printed.

Training, cross-validation and the deployment tools are replaced by stubs once their arguments and recipe
are validated: this target fuzzes the command line, the others fuzz what lies behind it."""

import os
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lepton_nb import cli
from tests.conftest import tiny_recipe
from tests.fuzz.helpers import assert_cli_outcome, fuzz, run_cli

COMMANDS = ["run", "cv", "demo", "recipe", "export", "optimize", "ensemble", "nope", "", "--help", "-h"]
OPTIONS = ["--out", "--set", "--resume", "--quiet", "--nproc", "--folds", "--preset", "-o", "--output", "--format",
           "--checkpoint", "--batch-size", "--quantize", "--prune", "--scope", "--split", "--no-save", "--weights",
           "--epochs", "--", "-x", "--set=train.lr=0.1"]


@pytest.fixture(scope="module")
def places():
    """Paths the arguments may name: a recipe, a broken recipe, an empty folder, a missing file."""
    with tempfile.TemporaryDirectory() as d:
        root = Path(d)
        tiny_recipe().to_file(root / "r.json")
        (root / "bad.json").write_text('{"train": {"lr": "fast"}}')
        (root / "empty").mkdir()
        (root / "out").mkdir()
        cwd = os.getcwd()
        os.chdir(root)  # `recipe -o NAME` and the default --out write relative to here, never into the checkout
        try:
            yield root
        finally:
            os.chdir(cwd)


@pytest.fixture(scope="module", autouse=True)
def stubs():
    """Stand-ins for the work behind validated arguments (each target of its own fuzzes that work)."""
    import lepton_nb.tools as tools
    import lepton_nb.workflows as workflows

    saved = {"train": cli._train_and_report, "cv": workflows.cross_validate, "launch": cli.launch_torchrun}
    cli._train_and_report = lambda recipe, out, quiet, resume=None: 0
    cli.launch_torchrun = lambda recipe, args: 0
    workflows.cross_validate = lambda recipe, folds, **kw: workflows.CVResult([])
    yield
    cli._train_and_report, workflows.cross_validate, cli.launch_torchrun = saved["train"], saved["cv"], saved["launch"]
    del tools


def arguments(root: Path):
    word = st.sampled_from([str(root / "r.json"), str(root / "bad.json"), str(root / "empty"), str(root / "none"),
                            str(root / "out"), "0", "1", "-1", "2", "51", "1e400", "9" * 400, "nan", "digits", "wine",
                            "onnx", "torchscript", "best", "last", "auto", "qint8", "none", "0.5", "train.lr=0.1",
                            "train.lr=" + "9" * 5000, "name=../x", "train.epochs=0", "=", "a=b", "é", "\x00", ""])
    tail = st.lists(st.sampled_from(OPTIONS) | word, max_size=6)
    return st.tuples(st.sampled_from(COMMANDS), tail).map(lambda t: [t[0], *t[1]] if t[0] else t[1])


@fuzz()
@given(data=st.data())
def test_any_argument_list_exits_0_or_2_without_a_traceback(places, data):
    argv = data.draw(arguments(places))
    recipes = (str(places / "r.json"), str(places / "bad.json"))
    if argv[:1] in (["export"], ["optimize"], ["ensemble"]):
        argv = [a for a in argv if a not in recipes]  # a recipe file is no checkpoint; keeps these runs cheap
    code, text = run_cli(argv)
    assert_cli_outcome(code, text, "CLI argument lists")
