"""Checkpoint files — arbitrary bytes, a real ``last.pt`` with bytes flipped or cut, and real checkpoints whose
entries were replaced by other objects — given to `load_checkpoint`, to resume (``lnb.train(resume=...)``) and to
`model_from_checkpoint` (what ``load_run`` does): each works or raises the package's error naming the checkpoint."""

from __future__ import annotations

import copy
import io
import tempfile
from pathlib import Path

import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import lepton_nb as lnb
from lepton_nb.artifacts.load import model_from_checkpoint
from lepton_nb.training.checkpoint import load_checkpoint
from tests.conftest import tiny_recipe
from tests.fuzz.helpers import assert_clear, fuzz, record

TARGET = "checkpoint files (load, resume, rebuild the model)"
NAMES = ("checkpoint", "resume", ".pt")
RECIPE = tiny_recipe(**{"train.epochs": 1, "data.limit": 200, "interpret.enabled": False, "model.width": 4,
                        "model.hidden": 8})
junk = st.recursive(st.none() | st.booleans() | st.integers(-3, 10**30) | st.floats() | st.text(max_size=6)
                    | st.just(torch.zeros(2)) | st.just(torch.tensor([float("nan")])),
                    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                    max_leaves=6)


@pytest.fixture(scope="module")
def base():
    """A real last.pt, its bytes, the recipe's data and where to write candidates."""
    with tempfile.TemporaryDirectory() as d:
        run = lnb.train(RECIPE, out=d, progress=False, report=False)
        path = run.dir / "checkpoints" / "last.pt"
        yield {"state": load_checkpoint(path), "bytes": path.read_bytes(), "data": run.data, "spec": run.data.spec(),
               "dir": Path(d)}


def paths(value, prefix=()):
    yield prefix
    if isinstance(value, dict):
        for k, v in value.items():
            if k != "model" or not prefix:  # the model's own keys: one level is enough
                yield from paths(v, (*prefix, k))


@st.composite
def candidate(draw, base) -> bytes:
    kind = draw(st.sampled_from(["bytes", "damaged", "damaged", "objects", "objects", "objects"]))
    if kind == "bytes":
        return draw(st.binary(max_size=200))
    if kind == "damaged":  # the zip torch.save writes, with bytes flipped, cut or inserted
        raw = bytearray(base["bytes"])
        for _ in range(draw(st.integers(1, 4))):
            i = draw(st.integers(0, len(raw) - 1))
            raw[i:i + draw(st.integers(0, 8))] = draw(st.binary(max_size=8))
        if draw(st.booleans()):
            raw = raw[:draw(st.integers(0, len(raw)))]
        return bytes(raw)
    state = copy.deepcopy(base["state"])  # the base stays as it is for the next example
    for _ in range(draw(st.integers(1, 3))):
        where = draw(st.sampled_from([p for p in paths(state) if p]))
        node = state
        for k in where[:-1]:
            node = node[k]
        action = draw(st.sampled_from(["replace", "remove", "shape"]))
        if action == "remove":
            node.pop(where[-1], None)
        elif action == "shape" and isinstance(node.get(where[-1]), torch.Tensor):
            node[where[-1]] = torch.zeros(draw(st.integers(0, 3)), 1)
        else:
            node[where[-1]] = draw(junk)
    buffer = io.BytesIO()
    torch.save(draw(st.sampled_from([state, state, state, [state], "text"])), buffer)
    return buffer.getvalue()


def test_checkpoint_files(base):
    @fuzz()
    @given(st.data())
    def check(data):
        raw = data.draw(candidate(base), label="checkpoint")
        path = base["dir"] / "candidate" / "last.pt"
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(raw)
        try:
            load_checkpoint(path)
            model_from_checkpoint(RECIPE, base["spec"], path)
            run = lnb.train(RECIPE, resume=path, out=None, data=base["data"], progress=False, report=False)
            assert run.status in ("completed", "diverged", "early_stopped", "stopped"), run.message
        except Exception as exc:
            assert_clear(exc, TARGET, NAMES)
        else:
            record(TARGET, "success")

    check()
