"""Attribution probes: a fixed, stratified set of samples explained at epoch ends during training.

Each probe runs on a frozen copy of the weights taken at the epoch boundary (the optimizer never
moves them mid-computation), under a forked RNG, so training with and without probes gives the
same weights. `ProbeSchedule` picks the epochs (each of the first, then spaced, always the last,
within ``interpret.budget``); ``history.meta["probe_note"]`` says why when few fit. Frames go to the
run's History as artifacts ("attributions") for live views and reports (the run folder keeps them
as ``attributions.npz``); a failure is recorded and stops the probes, never the training.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np
import torch

from ..data.bundle import DataBundle
from ..files import atomic_write
from ..recipe import DATA_KINDS, METHODS, InterpretSection
from ..training.callbacks import Callback
from ..training.events import EpochEnd, FitEnd, FitStart
from ..training.trainer import Trainer
from .attention import has_attention, token_rollout
from .attribution import attribution_copy, explain, needs_captum
from .schedule import ProbeSchedule


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


def prior_share(data: DataBundle, cfg: InterpretSection, method: str) -> float:
    """A guess of one probe's cost as a share of an epoch, before one was measured: sample passes of the
    probe (each about half a training pass: gradients for the inputs only, no optimizer) over the train split's."""
    params = METHODS[method].params
    passes = next((cfg.steps if k == "n_steps" else int(params[k].default)
                   for k in ("n_steps", "nt_samples", "n_samples") if k in params), 1)
    return 0.5 * cfg.probes * (passes + 2) / max(1, len(data.splits["train"]))


class AttributionProbes(Callback):
    """Explains the probe set at epoch ends: every ``every_n_epochs``, or as `ProbeSchedule` decides
    within the time budget (a frame at each of the first epochs, then spaced; always the last)."""

    def __init__(self, data: DataBundle, cfg: InterpretSection, method: str):
        self.data, self.cfg, self.method = data, cfg, method
        self.split = next((s for s in ("val", "test", "train") if len(data.splits[s])), "train")
        self.indices = probe_indices(data.labels(self.split), cfg.probes)
        self.inputs = data.inputs(self.split)[torch.as_tensor(self.indices)]
        self.labels = data.labels(self.split)[torch.as_tensor(self.indices)]
        if needs_captum(method):  # its import (~0.5 s) now, before training, not in epoch 1
            import captum.attr  # noqa: F401

        self.params = {"n_steps": cfg.steps} if "n_steps" in METHODS[method].params else {}
        self.net: torch.nn.Module | None = None  # the frozen copy explained, its weights refreshed per frame
        self.schedule = ProbeSchedule(1, cfg.budget, cfg.every_n_epochs, prior_share(data, cfg, method))
        self.warmup_seconds = 0.0
        self.failed = False

    @property
    def seconds(self) -> float:
        """Seconds spent on probes at epoch ends (the warm-up before training not included)."""
        return self.schedule.spent

    def attach(self, trainer: Trainer) -> None:
        super().attach(trainer)
        trainer.history.meta["probes"] = {"split": self.split, "indices": self.indices,
                                          "labels": self.labels.tolist(), "method": self.method,
                                          "target": self.cfg.target, "baseline": self.cfg.baseline,
                                          "kind": self.data.kind}

    def on_fit_start(self, event: FitStart) -> None:
        meta = self.trainer.history.meta
        meta.pop("interpret_error", None)
        meta.pop("probe_note", None)
        # before training: a first explanation pays the one-off costs (the copy, first-call set-up of the
        # kernels), like captum's import; two more measure what a probe costs, for the schedule (the faster:
        # a busy machine's one slow moment would otherwise keep the timeline short)
        t0 = time.perf_counter()
        costs = []
        try:
            self.explanation()
            for _ in range(2):
                t1 = time.perf_counter()
                self.explanation()
                costs.append(time.perf_counter() - t1)
            costs = [min(costs)]
        except Exception:  # noqa: BLE001 - the first frame reports it
            self.net, costs = None, []
        self.warmup_seconds = time.perf_counter() - t0
        self.schedule = ProbeSchedule(self.trainer.cfg.epochs, self.cfg.budget, self.cfg.every_n_epochs,
                                      self.schedule.prior, costs=costs)

    def on_epoch_end(self, event: EpochEnd) -> None:
        if self.failed or not self.schedule.due(event.epoch, event.seconds):
            self._note()
            return
        t0 = time.perf_counter()
        try:
            frame = self.frame(event.epoch)
        except Exception as exc:  # a probe must never end the run
            self.failed = True
            self.trainer.history.meta["interpret_error"] = f"{type(exc).__name__}: {exc}"
            return
        finally:
            self.schedule.record(event.epoch, time.perf_counter() - t0)
        self.trainer.history.add_artifact("attributions", frame)
        self._note()

    def _note(self) -> None:
        meta = self.trainer.history.meta
        if self.schedule.note:
            meta["probe_note"] = self.schedule.note
        else:
            meta.pop("probe_note", None)

    def explanation(self) -> Any:
        """The probe set explained with the model's current weights (on a frozen copy kept between frames)."""
        model = self.trainer.model
        if self.net is None:
            self.net = attribution_copy(model)
            if DATA_KINDS[self.data.kind].pixels:  # convolutions on CPU about twice as fast; equal to 1e-7
                self.net = self.net.to(memory_format=torch.channels_last)
        else:
            self.net.load_state_dict(model.state_dict())
        return explain(self.net, self.inputs, self.method, target=self.cfg.target, labels=self.labels,
                       baseline=self.cfg.baseline, data=self.data, copy_model=False, **self.params)

    def frame(self, epoch: int) -> dict[str, Any]:
        exp = self.explanation()  # the snapshot at this epoch boundary
        out = {"epoch": epoch, "step": self.trainer.global_step,
               "attributions": exp.attributions.numpy().astype(np.float16),
               "predictions": exp.predictions.tolist(), "confidence": [round(float(c), 4) for c in exp.confidence],
               "target": exp.target.tolist(), "delta": None if exp.delta is None else float(exp.delta.abs().max())}
        if self.net is not None and has_attention(self.net):  # a transformer: where its attention flows, too
            out["attention"] = token_rollout(self.net, self.inputs).astype(np.float16)
        return out

    def on_fit_end(self, event: FitEnd) -> None:
        meta = self.trainer.history.meta
        meta["probe_seconds"] = self.schedule.spent
        meta["probe_warmup_seconds"] = self.warmup_seconds


def save_timeline(path: Any, frames: list[dict[str, Any]], probes: dict[str, Any]) -> None:
    """The attribution timeline as one .npz (epochs × probes × input shape), written atomically."""
    atomic_write(path, lambda fh: np.savez_compressed(fh, epochs=np.array([f["epoch"] for f in frames]),
                        steps=np.array([f["step"] for f in frames]),
                        attributions=np.stack([f["attributions"] for f in frames]),
                        predictions=np.array([f["predictions"] for f in frames]),
                        confidence=np.array([f["confidence"] for f in frames]),
                        indices=np.array(probes["indices"]), labels=np.array(probes["labels"]),
                        split=np.array(probes["split"]), method=np.array(probes["method"]),
                        **({"attention": np.stack([f["attention"] for f in frames])}
                           if all("attention" in f for f in frames) else {})))


def load_timeline(path: Any) -> list[dict[str, Any]]:
    """The frames `save_timeline` wrote (for replaying a finished run); [] when the file is absent or damaged."""
    try:
        with np.load(path, allow_pickle=False) as z:
            return [{"epoch": int(z["epochs"][i]), "step": int(z["steps"][i]), "attributions": z["attributions"][i],
                     "predictions": z["predictions"][i].tolist(), "confidence": z["confidence"][i].tolist(),
                     **({"attention": z["attention"][i]} if "attention" in z.files else {})}
                    for i in range(len(z["epochs"]))]
    except (OSError, KeyError, ValueError):
        return []
