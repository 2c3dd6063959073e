"""Callbacks: subscribers to trainer events that add behaviour (early stopping, progress bars).

A callback defines ``on_<event>`` methods in snake case (``on_epoch_end``, ``on_batch_end``, see
`events.hook_name`); `attach` subscribes exactly those, `detach` removes them. A callback with state
(early stopping's best value and patience count) returns it from ``state_dict`` so that checkpoints
carry it and a resumed run continues bit-exactly.
"""

from __future__ import annotations

import math
import sys
import time
from typing import TYPE_CHECKING, Any

from ..kernel import in_kernel
from ..recipe import EarlyStoppingSection
from .events import EVENT_TYPES, BatchEnd, EpochEnd, FitEnd, FitStart, hook_name
from .optim import monitor_mode

if TYPE_CHECKING:
    from .trainer import Trainer


class Callback:
    """Override ``on_<event>`` methods (snake case); `attach` subscribes exactly those.

    An exception in a callback ends the run as an error (callbacks change training); to watch
    without that risk, subscribe an observer to ``trainer.events`` instead.
    """

    trainer: Trainer

    def attach(self, trainer: Trainer) -> None:
        self.trainer = trainer
        self._unsubscribe = [trainer.events.subscribe(getattr(self, hook_name(t)), t, observer=False)
                             for t in EVENT_TYPES if callable(getattr(self, hook_name(t), None))]

    def detach(self) -> None:
        """Stop receiving events."""
        for unsubscribe in getattr(self, "_unsubscribe", []):
            unsubscribe()
        self._unsubscribe = []

    def state_dict(self) -> dict[str, Any]:
        """What a checkpoint keeps of this callback (plain numbers, loadable with weights_only)."""
        return {}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Restore `state_dict` when a run resumes."""


class EarlyStopping(Callback):
    """Stops the run when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs."""

    def __init__(self, cfg: EarlyStoppingSection):
        self.cfg = cfg
        self.best: float | None = None
        self.wait = 0

    def attach(self, trainer: Trainer) -> None:
        super().attach(trainer)
        self.monitor = trainer.monitor
        self.mode = monitor_mode(self.monitor, self.cfg.mode)

    def state_dict(self) -> dict[str, Any]:
        return {"best": self.best, "wait": self.wait}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.best, self.wait = state.get("best"), int(state.get("wait", 0))

    def on_epoch_end(self, event: EpochEnd) -> None:
        value = event.metrics.get(self.monitor)
        if value is None or not math.isfinite(value):
            return
        delta = self.cfg.min_delta
        improved = self.best is None or (value < self.best - delta if self.mode == "min" else value > self.best + delta)
        if improved:
            self.best, self.wait = value, 0
            return
        self.wait += 1
        if self.wait >= self.cfg.patience and self.trainer.epoch < self.trainer.cfg.epochs:
            self.trainer.control.stop("early_stopping")


def progress_file() -> Any:
    """Where text progress bars write: stdout inside a notebook kernel (Jupyter shows stderr as an error, on
    red), tqdm's own stderr elsewhere (a terminal keeps stdout for results)."""
    return sys.stdout if in_kernel() else None


class TqdmProgress(Callback):
    """A text progress bar (tqdm) with loss, lr and validation metrics; refreshed ≤ 5 times/s."""

    def __init__(self, desc: str = "train", file: Any = None, leave: bool = True):
        self.desc, self.file, self.leave = desc, file, leave
        self.bar = None
        self._last = 0.0

    def on_fit_start(self, event: FitStart) -> None:
        from tqdm.std import tqdm  # the plain bar: tqdm.auto would import ipywidgets into the core

        total = event.epochs * event.steps_per_epoch
        self.bar = tqdm(total=total, initial=event.start_epoch * event.steps_per_epoch, desc=self.desc,
                        unit="batch", file=self.file or progress_file(), leave=self.leave, dynamic_ncols=True)

    def on_batch_end(self, event: BatchEnd) -> None:
        if self.bar is None:
            return
        self.bar.update(1)
        now = time.monotonic()
        if now - self._last > 0.2:
            self._last = now
            self.bar.set_postfix(epoch=event.epoch + 1, loss=f"{event.loss:.4f}", lr=f"{event.lr:.2e}", refresh=False)

    def on_epoch_end(self, event: EpochEnd) -> None:
        if self.bar is None:
            return
        shown = {k: f"{v:.4f}" for k, v in event.metrics.items() if k in ("val_loss", "val_accuracy")}
        self.bar.set_postfix(epoch=event.epoch + 1, loss=f"{event.metrics['train_loss']:.4f}", **shown)

    def on_fit_end(self, event: FitEnd) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
