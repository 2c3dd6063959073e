"""The optimizers and learning-rate schedules a recipe may name, and the ``train`` fields each reads: validation and
the forms read these tables; `lepton_nb.training.optim` builds each from a registry keyed by the same names."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .fields import Names


@dataclass(frozen=True)
class Optimizer:
    uses: frozenset[str] = frozenset()  # train fields it reads besides lr and weight_decay
    needs_momentum: bool = False  # momentum 0 makes no sense for it
    label: str = ""  # its name in messages


@dataclass(frozen=True)
class Schedule:
    uses: frozenset[str] = frozenset()  # train fields it reads
    planned: bool = False  # planned over the epochs set at Start: train.epochs cannot change mid-run


OPTIMIZERS: dict[str, Optimizer] = {
    "sgd": Optimizer(),
    "momentum": Optimizer(frozenset({"momentum"})),
    "nesterov": Optimizer(frozenset({"momentum"}), needs_momentum=True, label="Nesterov momentum"),
    "adam": Optimizer(frozenset({"beta1"})),
    "adamw": Optimizer(frozenset({"beta1"})),
}

SCHEDULERS: dict[str, Schedule] = {
    "none": Schedule(),
    "step": Schedule(frozenset({"step_size", "gamma"})),
    "cosine": Schedule(planned=True),
    "one_cycle": Schedule(planned=True),
    "warmup_cosine": Schedule(frozenset({"warmup_epochs"}), planned=True),
}


def optimizers_using(field: str) -> Names[Optimizer]:
    return Names(OPTIMIZERS, lambda optimizer: field in optimizer.uses)


def schedulers_using(field: str) -> Names[Schedule]:
    return Names(SCHEDULERS, lambda schedule: field in schedule.uses)


def upgrade_train(train: dict[str, Any]) -> dict[str, Any]:
    """A ``train`` section written before ``beta1`` existed, when ``momentum`` doubled as Adam's beta1: its
    momentum becomes the beta1 of an Adam-family optimizer, so the recipe trains as it did."""
    optimizer = OPTIMIZERS.get(train.get("optimizer", "adamw"))
    if "momentum" in train and "beta1" not in train and optimizer is not None and "beta1" in optimizer.uses:
        return {**train, "beta1": train["momentum"]}
    return train
