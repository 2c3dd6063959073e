"""Shared fixtures: small, seeded, offline data and recipes so every test runs in seconds."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import torch

import lepton_nb as lnb

REPO = Path(__file__).resolve().parents[1]
SHARED = Path(os.environ.get("LEPTON_NB_SHARED", REPO.parent / "shared"))
SHARED_DATA = SHARED / "data"
MNIST_RAW = SHARED_DATA / "MNIST" / "raw"
IMDB = SHARED_DATA / "sentiment" / "imdb_labelled.txt"

torch.set_num_threads(min(2, torch.get_num_threads()))


def need_shared(path: Path) -> None:
    """Skip locally when ../shared is absent; CI always has it, so there it is a failure."""
    if not path.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing: CI runs with ../shared beside the clone")
        pytest.skip(f"{path} not present")


@pytest.fixture
def mnist_root() -> Path:
    need_shared(MNIST_RAW)
    return SHARED_DATA


@pytest.fixture
def imdb_path() -> Path:
    need_shared(IMDB)
    return IMDB


# Waits follow conditions, not budgets tuned on an idle machine: a wait lasts until what it waits for happens,
# or until what would make it happen has ended without it (``alive``). HANG_S only catches a hang; it lies far
# beyond what a loaded machine needs (the suite passes with both cores busy), below pytest's per-test timeout.
HANG_S = float(os.environ.get("LEPTON_NB_TEST_HANG_S", "600"))


def wait_for(predicate, timeout: float | None = None, *, alive=None) -> bool:
    """Poll ``predicate`` until it holds (True). False when ``alive()`` (the thread, session or process that
    would make it hold) reports it ended first, or after the hang guard ``timeout`` (default `HANG_S`)."""
    end = time.monotonic() + (HANG_S if timeout is None else timeout)
    while time.monotonic() < end:
        if predicate():
            return True
        if alive is not None and not alive():
            return bool(predicate())
        time.sleep(0.005)
    return False


def tiny_recipe(**changes) -> lnb.Recipe:
    """Digits, few samples, two quick epochs: a full training run in about a second."""
    base = {"data.limit": 600, "train.epochs": 2, "train.batch_size": 64, "model.width": 8, "model.hidden": 32}
    base.update({k.replace("__", "."): v for k, v in changes.items()})
    return lnb.Recipe.default().updated(base)


@pytest.fixture
def tiny() -> lnb.Recipe:
    return tiny_recipe()


@pytest.fixture(scope="session")
def digits_bundle() -> lnb.DataBundle:
    return lnb.build_data(tiny_recipe())


def write_sentiment(path: Path, n: int = 240, seed: int = 0) -> Path:
    """A small synthetic ``sentence<TAB>label`` file: label 1 sentences carry positive words."""
    import random

    rng = random.Random(seed)
    good = ["great", "wonderful", "love", "excellent", "fun", "best", "superb"]
    bad = ["awful", "boring", "hate", "terrible", "worst", "dull", "poor"]
    filler = ["the", "movie", "plot", "was", "actors", "and", "really", "film", "this", "story", "quite"]
    lines = []
    for i in range(n):
        label = i % 2
        words = rng.sample(filler, 5) + rng.sample(good if label else bad, 2)
        rng.shuffle(words)
        lines.append(" ".join(words) + f"\t{label}")
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def digits_run(tmp_path_factory) -> lnb.Run:
    """A tiny trained digits run with its folder, shared by the deployment tests (they may add export/ and
    optimized/ files to it, never change what training wrote)."""
    return lnb.train(tiny_recipe(name="tiny"), out=tmp_path_factory.mktemp("runs"), progress=False)
