"""Changes to a paused run that apply on Resume: learning rate, weight decay, gradient clipping, epochs and
early-stopping patience.

A value shown as applied must be applied: the optimizer's groups and the scheduler are adjusted in
place (the schedule keeps its shape and is scaled to the new learning rate), the trainer's settings are
replaced, and each change is recorded with its step in ``history.meta["changes"]`` — the recipe stays the
one the run started from. Everything else is fixed at Start, and `locked_reason` says why.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, Protocol

import torch

from ..errors import Problem, RecipeError
from ..recipe import SCHEDULERS, EarlyStoppingSection, TrainSection
from .history import History


class Trainer(Protocol):
    """What a change touches of a paused `lepton_nb.training.Trainer`."""

    cfg: TrainSection
    optimizer: torch.optim.Optimizer
    scheduler: Any
    callbacks: list[Any]
    history: History
    epoch: int
    global_step: int
    steps_per_epoch: int
    total_steps: int


def locked_reason(path: str, cfg: TrainSection) -> str | None:
    """Why ``path`` cannot change while a run is active (None when it can, on Resume)."""
    if path == "train.epochs" and SCHEDULERS[cfg.scheduler].planned:
        return f"the {cfg.scheduler} schedule is planned over the epochs set at Start"
    if path in MID_RUN:
        return None
    if path.startswith(("data.", "normalize.")):
        return "the data are loaded and split at Start"
    if path.startswith("model."):
        return "the model is built at Start"
    if path.startswith("augment."):
        return "the augmentation pipeline is built at Start"
    if path.startswith("interpret."):
        return "the probe set is chosen at Start"
    return "fixed at Start (it shapes the optimizer, batches or evaluation)"


def _current(cfg: TrainSection, path: str) -> Any:
    node: Any = cfg
    for part in path.split(".")[1:]:
        node = getattr(node, part)
    return node


def check_changes(cfg: TrainSection, changes: dict[str, Any], epochs_done: int) -> list[Problem]:
    """Problems with ``changes`` for a run with these settings that has finished ``epochs_done`` epochs."""
    problems = []
    for path, value in changes.items():
        reason = locked_reason(path, cfg)
        if reason is not None:
            problems.append(Problem(path, value, f"cannot change mid-run: {reason}; allowed mid-run: "
                                                 f"{', '.join(p for p in MID_RUN if locked_reason(p, cfg) is None)}"))
        elif path == "train.epochs" and int(value) <= epochs_done:
            problems.append(Problem(path, value, f"allowed: more than the {epochs_done} epoch(s) already done"))
    return problems


def _scale_lr(trainer: Trainer, factor: float) -> None:
    """Every learning rate the optimizer and scheduler hold, times ``factor`` (the schedule keeps its shape)."""
    for group in trainer.optimizer.param_groups:
        for key in ("lr", "initial_lr", "max_lr", "min_lr"):
            if key in group:
                group[key] *= factor
    pending = [trainer.scheduler] if trainer.scheduler is not None else []
    while pending:
        sched = pending.pop()
        if hasattr(sched, "base_lrs"):
            sched.base_lrs = [lr * factor for lr in sched.base_lrs]
        if hasattr(sched, "_last_lr"):
            sched._last_lr = [lr * factor for lr in sched._last_lr]
        pending.extend(getattr(sched, "_schedulers", []))


Applier = Callable[[Trainer, Any, Any, dict[str, Any]], None]  # (trainer, old, new, new settings to fill)


def _lr(trainer: Trainer, old: Any, value: Any, top: dict[str, Any]) -> None:
    _scale_lr(trainer, float(value) / float(old))
    top["lr"] = value


def _weight_decay(trainer: Trainer, old: Any, value: Any, top: dict[str, Any]) -> None:
    for group in trainer.optimizer.param_groups:
        if group.get("weight_decay") == old:
            group["weight_decay"] = float(value)
    top["weight_decay"] = value


def _patience(trainer: Trainer, old: Any, value: Any, top: dict[str, Any]) -> None:
    es = dataclasses.replace(trainer.cfg.early_stopping, patience=int(value))
    top["early_stopping"] = es
    for cb in trainer.callbacks:  # early stopping follows the new patience
        if isinstance(getattr(cb, "cfg", None), EarlyStoppingSection):
            cb.cfg = es


def _setting(name: str) -> Applier:
    def apply(trainer: Trainer, old: Any, value: Any, top: dict[str, Any]) -> None:
        top[name] = value
    return apply


#: the fields a paused run accepts (dotted recipe keys), each with how it applies
APPLIERS: dict[str, Applier] = {"train.lr": _lr, "train.weight_decay": _weight_decay,
                                "train.grad_clip": _setting("grad_clip"), "train.epochs": _setting("epochs"),
                                "train.early_stopping.patience": _patience}
MID_RUN = tuple(APPLIERS)


def apply_changes(trainer: Trainer, changes: dict[str, Any]) -> list[dict[str, Any]]:
    """Apply checked ``changes`` (dotted keys) to a paused trainer; returns what was recorded."""
    cfg = trainer.cfg
    problems = check_changes(cfg, changes, trainer.epoch)
    if problems:
        raise RecipeError(problems)
    done = []
    top: dict[str, Any] = {}
    for path, value in changes.items():
        old = _current(cfg, path)
        if old == value:
            continue
        APPLIERS[path](trainer, old, value, top)
        done.append({"step": trainer.global_step, "epoch": trainer.epoch, "field": path, "old": old, "new": value})
    if top:
        trainer.cfg = dataclasses.replace(cfg, **top)
        trainer.total_steps = trainer.cfg.epochs * trainer.steps_per_epoch
    trainer.history.meta.setdefault("changes", []).extend(done)
    return done


__all__ = ["MID_RUN", "apply_changes", "check_changes", "locked_reason"]
