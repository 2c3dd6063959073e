"""Mutated recipes (dicts and JSON text) and arbitrary bytes as recipe files: a `Recipe` or a `RecipeError`
whose every problem names its field; the command line exits 0 or 2 without a traceback."""

import json
import tempfile
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from lepton_nb import cli
from lepton_nb.recipe import PRESETS, Recipe
from tests.fuzz.helpers import assert_clear, assert_cli_outcome, fuzz, record, run_cli

KEYS = ["name", "data", "train", "model", "lr", "epochs", "batch_size", "ops", "op", "source", "", " ", "é", "a.b",
        "normalize", "augment", "mean", "std", "clean", "early_stopping", "adversarial", "x" * 300]
scalars = (st.none() | st.booleans() | st.integers() | st.integers(min_value=10**300, max_value=10**400)
           | st.floats() | st.text(max_size=12) | st.sampled_from(["../../x", "a\x00b", "nan", "1e400", "cpu", "fp16",
                                                                    "rotation", "x" * 300]))
values = st.recursive(scalars, lambda c: st.lists(c, max_size=4) | st.dictionaries(st.sampled_from(KEYS), c,
                                                                                     max_size=4), max_leaves=12)


def paths(d: dict, prefix=()):
    for k, v in d.items():
        yield (*prefix, k)
        if isinstance(v, dict):
            yield from paths(v, (*prefix, k))


@st.composite
def mutated(draw) -> dict:
    """A preset's dict with 1 to 4 mutations: a value replaced, a key removed, added or misspelt."""
    d = json.loads(json.dumps(PRESETS[draw(st.sampled_from(sorted(PRESETS)))]))
    d = Recipe.from_dict(d).to_dict()
    for _ in range(draw(st.integers(1, 4))):
        where = draw(st.sampled_from(list(paths(d))))
        node = d
        for k in where[:-1]:
            node = node[k]
        action = draw(st.sampled_from(["replace", "replace", "remove", "add", "misspell"]))
        if action == "replace":
            node[where[-1]] = draw(values)
        elif action == "remove":
            node.pop(where[-1])
        elif action == "add":
            node[draw(st.sampled_from(KEYS))] = draw(values)
        else:
            node[where[-1] + draw(st.sampled_from(["s", "_", " ", ""]))] = node.pop(where[-1])
    return d


@fuzz()
@given(mutated())
def test_mutated_recipe_dicts(data):
    try:
        recipe = Recipe.from_dict(data)
    except Exception as exc:
        assert_clear(exc, "mutated recipes")
    else:
        assert recipe.validate() == [] and Recipe.from_json(recipe.to_json()) == recipe
        record("mutated recipes", "success")


@fuzz()
@given(mutated(), st.data())
def test_mutated_recipe_json_text(data, draw):
    text = json.dumps(data)
    if text and draw.draw(st.booleans()):  # damage the text itself: cut, insert or replace characters
        i = draw.draw(st.integers(0, len(text) - 1))
        text = text[:i] + draw.draw(st.sampled_from(["", "[" * 1000, "9" * 5000, "}", '"', "\x00", "\\u"])) + \
            text[i + draw.draw(st.integers(0, 3)):]
    try:
        Recipe.from_json(text)
    except Exception as exc:
        assert_clear(exc, "mutated recipes")
    else:
        record("mutated recipes", "success")


def recipe_bytes():
    """Arbitrary bytes, and valid JSON/YAML recipe texts with bytes flipped, cut or inserted."""
    valid = [Recipe.default().to_json().encode(), b"{}", b"name: x\ntrain:\n  lr: 0.1\n", b"[" * 100_000,
             b'{"train": {"epochs": ' + b"9" * 5000 + b"}}", b"\xef\xbb\xbf{}", b"&a [*a, *a]"]

    @st.composite
    def damaged(draw):
        raw = bytearray(draw(st.sampled_from(valid)))
        for _ in range(draw(st.integers(0, 4))):
            i = draw(st.integers(0, max(0, len(raw) - 1)))
            raw[i:i + draw(st.integers(0, 5))] = draw(st.binary(max_size=6))
        return bytes(raw)

    return st.binary(max_size=400) | damaged()


@pytest.fixture(scope="module")
def folder():
    with tempfile.TemporaryDirectory() as d:
        yield Path(d)


@pytest.fixture(scope="module", autouse=True)
def no_training():
    """The command line is fuzzed up to training: a valid recipe counts as success without training it."""
    original = cli._train_and_report
    cli._train_and_report = lambda recipe, out, quiet, resume=None: 0
    yield
    cli._train_and_report = original


@fuzz()
@given(recipe_bytes(), st.sampled_from([".json", ".yaml", ".yml", ".txt", ""]))
def test_bytes_as_a_recipe_file_on_the_command_line(folder, payload, suffix):
    path = folder / f"recipe{suffix}"
    path.write_bytes(payload)
    code, text = run_cli(["run", str(path), "--out", str(folder / "runs"), "--quiet"])
    assert_cli_outcome(code, text, "bytes as a recipe file")
    assert code == 0 or "recipe" in text
