"""One-off import costs paid ahead of time, in a background thread.

The first optimizer step imports torch._dynamo (~2 s on 2 cores), scikit-learn's metrics and
model selection take ~1.5 s. In a process that is about to train they would otherwise land between
pressing Start and the first live point. Only a process that trains pays them: a studio's training
process, or the kernel of a studio that trains in a thread (they hold ~150 MB). captum (~0.5 s,
30 MB) is not among them: the default probes use our own batched Integrated Gradients.
"""

from __future__ import annotations

import threading

_started: threading.Thread | None = None
_lock = threading.Lock()


def warm_up() -> None:
    import torch

    torch.optim.AdamW([torch.zeros(1, requires_grad=True)])  # imports torch._dynamo
    import sklearn.metrics  # noqa: F401
    import sklearn.model_selection  # noqa: F401


def join_warm_up(timeout: float | None = None) -> None:
    """Wait for a started warm-up (its imports run inside torch; a closing studio lets them finish)."""
    with _lock:
        started = _started
    if started is not None:
        started.join(timeout)


def warm_up_in_background() -> threading.Thread:
    """Start `warm_up` once per process (later calls return the same thread)."""
    global _started
    with _lock:
        if _started is None:
            _started = threading.Thread(target=warm_up, name="lepton_nb-warm-up", daemon=True)
            _started.start()
        return _started
