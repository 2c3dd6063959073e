"""Damaged run folders: files removed, cut, overwritten with bytes, JSON values changed, checkpoints replaced by
other objects; `load_run`, predict and export either work or raise the package's error naming the file."""

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lepton_nb as lnb
from tests.conftest import tiny_recipe
from tests.fuzz.helpers import assert_clear, fuzz, record

FILES = ["recipe.json", "data.json", "history.json", "metrics.json", "checkpoints/best.pt", "checkpoints/last.pt"]
NAMES = ("recipe", "data.json", "history.json", "metrics.json", "checkpoint", "run", ".pt")
junk = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**30) | st.floats() | st.text(max_size=6),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                    max_leaves=8)


@pytest.fixture(scope="module")
def pristine():
    with tempfile.TemporaryDirectory() as d:
        run = lnb.train(tiny_recipe(name="pristine", **{"train.epochs": 1, "data.limit": 300}), out=d,
                        progress=False, report=False)
        yield run.dir


def json_paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            yield from json_paths(v, (*prefix, k))
    elif isinstance(value, list):
        for i, v in enumerate(value[:3]):
            yield from json_paths(v, (*prefix, i))


@st.composite
def damage(draw, folder: Path) -> list[str]:
    """Apply 1 to 3 kinds of damage to a copy of a run folder; returns what was done (for the failure report)."""
    done = []
    for _ in range(draw(st.integers(1, 3))):
        name = draw(st.sampled_from(FILES))
        path = folder / name
        kind = draw(st.sampled_from(["remove", "cut", "bytes", "edit", "edit", "object"]))
        if not path.exists():
            continue
        if kind == "remove":
            path.unlink()
        elif kind == "cut":
            raw = path.read_bytes()
            path.write_bytes(raw[:draw(st.integers(0, max(0, len(raw) - 1)))])
        elif kind == "bytes":
            path.write_bytes(draw(st.binary(max_size=64)))
        elif kind == "edit" and name.endswith(".json"):
            try:
                data = json.loads(path.read_text())
            except ValueError:  # damaged already
                continue
            where = draw(st.sampled_from(list(json_paths(data))))
            if not where:
                data = draw(junk)
            else:
                node = data
                for k in where[:-1]:
                    node = node[k]
                node[where[-1]] = draw(junk)
            path.write_text(json.dumps(data))
        elif kind == "object" and name.endswith(".pt"):
            try:
                state = torch.load(path, weights_only=True)
                assert isinstance(state, dict) and isinstance(state.get("model"), dict) and state["model"]
            except Exception:  # damaged already
                continue
            obj = draw(st.sampled_from(["list", "no model", "model junk", "tensor", "shape"]))
            if obj == "list":
                state = [1, 2]
            elif obj == "tensor":
                state = torch.zeros(3)
            elif obj == "no model":
                state.pop("model")
            elif obj == "model junk":
                state["model"] = {"x": torch.zeros(2)}
            else:
                key = draw(st.sampled_from(sorted(state["model"])))
                state["model"][key] = torch.zeros(3, 1)
            torch.save(state, path)
        done.append(f"{kind} {name}")
    return done


def copy_of(pristine: Path) -> Path:
    target = Path(tempfile.mkdtemp(prefix="damaged-")) / "run"
    shutil.copytree(pristine, target)
    return target


@pytest.mark.parametrize("operation", ["load_run", "predict", "export"])
def test_damaged_run_folders(pristine, operation):
    @fuzz(scale=0.35 if operation == "export" else 1.0)
    @given(st.data())
    def check(data):
        folder = copy_of(pristine)
        try:
            data.draw(damage(folder), label="damage")
            run = lnb.load_run(folder)
            if operation == "predict":
                labels = run.predict(np.random.default_rng(0).random((3, 1, 8, 8), dtype=np.float32))
                assert len(labels) == 3 and all(label in run.predictor().classes for label in labels)
            elif operation == "export":
                lnb.export(folder, "torchscript", folder / "m.pt", batch_size=4, repeats=1)
        except Exception as exc:
            assert_clear(exc, f"damaged run folders x {operation}", NAMES)
        else:
            record(f"damaged run folders x {operation}", "success")
        finally:
            shutil.rmtree(folder.parent, ignore_errors=True)

    check()
