"""Large data tensors travel to the worker through shared memory: one copy between kernel and worker."""

from __future__ import annotations

import pickle
import socket

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data.bundle import Split
from lepton_nb.workflows import WorkerSession
from lepton_nb.workflows.session import shared_data
from lepton_nb.workflows.session.protocol import send_fds
from lepton_nb.workflows.session.shared_data import SharedSplits, available, receive_fds, release_incoming
from tests.conftest import HANG_S, tiny_recipe

pytestmark = pytest.mark.skipif(not available(), reason="memfd shared memory is Linux-only (elsewhere: copied)")


def memfd_mappings() -> int:
    with open("/proc/self/maps") as f:
        return sum(f"memfd:{shared_data.NAME}" in line for line in f)


def test_large_tensors_move_to_shared_memory_with_their_values_and_small_ones_stay(monkeypatch):
    monkeypatch.setattr(shared_data, "SHARE_BYTES", 1000)
    x, y, small = torch.randn(50, 10), torch.arange(50), torch.ones(3)
    splits = {"train": Split(x.clone(), y.clone()), "val": Split(small.clone(), torch.zeros(3, dtype=torch.long))}
    shared = SharedSplits()
    before = memfd_mappings()
    shared.share(splits)
    assert torch.equal(splits["train"].x, x) and torch.equal(splits["train"].y, y)  # y: 400 bytes, kept
    assert len(shared.fds) == 1 and memfd_mappings() == before + 1
    assert splits["val"].x.data_ptr() not in shared.fds
    shared.close()
    assert torch.equal(splits["train"].x, x)  # the mapping outlives the descriptor


def test_a_message_carries_descriptors_and_both_ends_see_the_same_memory(monkeypatch):
    monkeypatch.setattr(shared_data, "SHARE_BYTES", 0)
    splits = {"train": Split(torch.randn(20, 4), torch.arange(20))}
    shared = SharedSplits()
    shared.share(splits)
    payload, fds = shared.dumps(("train", splits, "other"))
    assert len(fds) == 2 and len(payload) < 1000  # the 400 bytes of values are not in the message
    a, b = socket.socketpair()
    try:
        send_fds(a.fileno(), fds)
        receive_fds(b.fileno(), len(fds))
        _, received, other = pickle.loads(payload)
        release_incoming()
    finally:
        a.close()
        b.close()
        shared.close()
    assert other == "other" and torch.equal(received["train"].x, splits["train"].x)
    splits["train"].x[0, 0] = 123.0  # one memory, mapped twice
    assert received["train"].x[0, 0] == 123.0


def worker_view(recipe, *, control, data, on_progress):
    """Run in the worker: how many shared mappings it has, and a checksum of the data it got."""
    return memfd_mappings(), float(data.train.x.double().sum()), int(data.train.y.sum())


def test_the_worker_trains_on_the_kernels_shared_tensors_with_the_same_result(monkeypatch):
    monkeypatch.setattr(shared_data, "SHARE_BYTES", 0)  # the tiny digits count as large here
    recipe = tiny_recipe(train__epochs=2)
    data = lnb.build_data(recipe)
    session = WorkerSession(out=None)
    try:
        maps, total, labels = session.call(worker_view, recipe, data=data)
        assert maps >= 6  # x and y of train, val and test: mapped, not copied
        assert total == float(data.train.x.double().sum()) and labels == int(data.train.y.sum())
        assert data.train.x.data_ptr() in session.runner.shared.fds  # the kernel's own tensor is the shared one
        assert session.start(recipe, data=data) and session.wait(HANG_S) and session.state == "completed"
        here = lnb.train(recipe, data=lnb.build_data(recipe), progress=False, out=None, report=False)
        a, b = here.model.state_dict(), session.run.model.state_dict()
        assert all(torch.equal(a[k], b[k]) for k in a)
        session.runner.process.proc.kill()  # a fresh worker gets the same descriptors again
        session.runner.process.proc.wait()
        maps, again, _ = session.call(worker_view, recipe, data=data)
        assert maps >= 6 and again == total and len(session.runner.shared.fds) == 6
    finally:
        session.close()
    assert session.runner.shared.fds == {}
