"""The one door to the process-wide RNG, for the libraries that only draw from it.

lepton_nb's own randomness uses `torch.Generator` / `numpy.random.Generator` objects of each run.
torchvision's v2 transforms and some Captum methods accept no generator: they run inside
`seeded_global_rng`, which serializes such users, seeds the global RNGs and restores their
previous state afterwards, so nobody's seed leaks into another thread's stream.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

_LOCK = threading.RLock()


@contextmanager
def seeded_global_rng(seed: int) -> Iterator[None]:
    """Run a block with torch's CPU RNG and numpy's legacy RNG seeded by ``seed``, then restore both."""
    seed = int(seed) % (2**32)
    with _LOCK, torch.random.fork_rng(devices=[]):
        state = np.random.get_state()
        torch.manual_seed(seed)
        np.random.seed(seed)
        try:
            yield
        finally:
            np.random.set_state(state)
