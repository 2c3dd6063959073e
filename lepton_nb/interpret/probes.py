"""Attribution probes: a fixed, stratified set of samples explained at epoch ends during training.

Each probe runs on a frozen copy of the weights taken at the epoch boundary (the optimizer never
moves them mid-computation), under a forked RNG, so training with and without probes gives the
same weights. Frames go to the run's History as artifacts ("attributions") for live views and
reports (the run folder keeps them as ``attributions.npz``); a failure is recorded and stops the
probes, never the training.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..data.bundle import DataBundle
from ..spec import METHODS, InterpretSection
from ..train.callbacks import Callback
from ..train.events import EpochEnd, FitEnd, FitStart
from ..train.trainer import Trainer
from .attribution import explain


def probe_indices(labels: torch.Tensor, n: int) -> list[int]:
    """Up to ``n`` indices, cycling through the classes in order (one per class first)."""
    y = labels.numpy()
    pools = [list(np.flatnonzero(y == c)) for c in np.unique(y)]
    out: list[int] = []
    depth = 0
    while len(out) < min(n, len(y)):
        for pool in pools:
            if depth < len(pool) and len(out) < n:
                out.append(int(pool[depth]))
        depth += 1
    return sorted(out, key=lambda i: (int(y[i]), i))


class AttributionProbes(Callback):
    """Explains the probe set at epoch ends: every ``every_n_epochs``, or within a time budget."""

    def __init__(self, data: DataBundle, cfg: InterpretSection, method: str):
        self.data, self.cfg, self.method = data, cfg, method
        self.split = next((s for s in ("val", "test", "train") if len(data.splits[s])), "train")
        self.indices = probe_indices(data.labels(self.split), cfg.probes)
        self.inputs = data.inputs(self.split)[torch.as_tensor(self.indices)]
        self.labels = data.labels(self.split)[torch.as_tensor(self.indices)]
        import captum.attr  # noqa: F401 - a one-off import (~0.5 s), paid before training, not in epoch 1

        self.seconds = 0.0  # spent on probes
        self.train_seconds = 0.0  # spent on training epochs
        self.last_cost: float | None = None
        self.failed = False

    def attach(self, trainer: Trainer) -> None:
        super().attach(trainer)
        trainer.history.meta["probes"] = {"split": self.split, "indices": self.indices,
                                          "labels": self.labels.tolist(), "method": self.method,
                                          "target": self.cfg.target, "baseline": self.cfg.baseline,
                                          "kind": self.data.kind}

    def on_fit_start(self, event: FitStart) -> None:
        self.trainer.history.meta.pop("interpret_error", None)

    def due(self, epoch: int) -> bool:
        """Every n epochs, or (n = 0) whenever the time spent stays within the budget; always the last."""
        if epoch + 1 == self.trainer.cfg.epochs:
            return True
        if self.cfg.every_n_epochs:
            return (epoch + 1) % self.cfg.every_n_epochs == 0
        if self.last_cost is None:  # the first probe measures what one costs
            return True
        # this probe and the final one (always taken) must fit in the budget of the time trained so far
        return self.seconds + 2 * self.last_cost <= self.cfg.budget * self.train_seconds

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.train_seconds += event.seconds
        if self.failed or not self.due(event.epoch):
            return
        t0 = time.perf_counter()
        try:
            frame = self.frame(event.epoch)
        except Exception as exc:  # a probe must never end the run
            self.failed = True
            self.trainer.history.meta["interpret_error"] = f"{type(exc).__name__}: {exc}"
            return
        finally:
            self.last_cost = time.perf_counter() - t0
            self.seconds += self.last_cost
        self.trainer.history.add_artifact("attributions", frame)

    def frame(self, epoch: int) -> dict[str, Any]:
        # explain() works on its own frozen copy of the weights: the snapshot at this epoch boundary
        snapshot = self.trainer.model
        params = {"n_steps": self.cfg.steps} if "n_steps" in METHODS[self.method].params else {}
        exp = explain(snapshot, self.inputs, self.method, target=self.cfg.target, labels=self.labels,
                      baseline=self.cfg.baseline, data=self.data, **params)
        return {"epoch": epoch, "step": self.trainer.global_step,
                "attributions": exp.attributions.numpy().astype(np.float16),
                "predictions": exp.predictions.tolist(), "confidence": [round(float(c), 4) for c in exp.confidence],
                "target": exp.target.tolist(),
                "delta": None if exp.delta is None else float(exp.delta.abs().max())}

    def on_fit_end(self, event: FitEnd) -> None:
        self.trainer.history.meta["probe_seconds"] = self.seconds


def save_timeline(path: Any, frames: list[dict[str, Any]], probes: dict[str, Any]) -> None:
    """The attribution timeline as one .npz (epochs × probes × input shape), written atomically."""
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez_compressed(tmp, epochs=np.array([f["epoch"] for f in frames]),
                        steps=np.array([f["step"] for f in frames]),
                        attributions=np.stack([f["attributions"] for f in frames]),
                        predictions=np.array([f["predictions"] for f in frames]),
                        confidence=np.array([f["confidence"] for f in frames]),
                        indices=np.array(probes["indices"]), labels=np.array(probes["labels"]),
                        split=np.array(probes["split"]), method=np.array(probes["method"]))
    tmp.replace(path)


def load_timeline(path: Any) -> list[dict[str, Any]]:
    """The frames `save_timeline` wrote (for replaying a finished run); [] when the file is absent or damaged."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return [{"epoch": int(z["epochs"][i]), "step": int(z["steps"][i]), "attributions": z["attributions"][i],
                     "predictions": z["predictions"][i].tolist(), "confidence": z["confidence"][i].tolist()}
                    for i in range(len(z["epochs"]))]
    except (OSError, KeyError, ValueError):
        return []
