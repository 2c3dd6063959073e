"""k-fold cross-validation of a recipe: one model per fold, statistics refitted on each fold's training part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..data import kfold_bundles
from ..errors import UsageError
from ..evaluation import evaluate_model
from ..recipe import Recipe
from ..training.control import Control
from ..training.observers import Observers
from .plan import RunOptions, fold_plan, open_init


@dataclass
class CVResult:
    """Per-fold metrics and their mean ± standard deviation."""

    folds: list[dict[str, float]]
    status: str = "completed"

    @property
    def mean(self) -> dict[str, float]:
        return {k: float(np.mean([f[k] for f in self.folds])) for k in self.folds[0]} if self.folds else {}

    @property
    def std(self) -> dict[str, float]:
        return {k: float(np.std([f[k] for f in self.folds], ddof=1)) if len(self.folds) > 1 else 0.0
                for k in self.folds[0]} if self.folds else {}

    def table(self) -> str:
        lines = [f"{len(self.folds)} folds ({self.status})"]
        lines += [f"{k:<18} {self.mean[k]:.4f} ± {self.std[k]:.4f}" for k in self.mean]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"folds": self.folds, "mean": self.mean, "std": self.std, "status": self.status}


def cross_validate(recipe: Recipe, folds: int | None = None, *, progress: bool = False,
                   control: Control | None = None,
                   on_fold: Callable[[int, dict[str, float]], None] | None = None) -> CVResult:
    """Train one model per fold of stratified k-fold CV over the non-test data.

    Normalization statistics, vocabularies and encoders are refitted on each fold's training part.
    A ``control`` lets another thread stop between (and within) folds.
    """
    folds = recipe.evaluate.cv_folds if folds is None or folds == 0 else folds
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= 50:
        raise UsageError("folds", folds, "allowed: a whole number from 2 to 50 (each fold holds out 1/folds of "
                         "the data), or 0/None for evaluate.cv_folds")
    results: list[dict[str, float]] = []
    status = "completed"
    init = open_init(recipe)  # read once for every fold
    control = control if control is not None else Control()
    for i, bundle in kfold_bundles(recipe, folds, init.tokens if init else None):
        plan = fold_plan(recipe, bundle, init, Observers(control=control),
                         RunOptions(progress=progress, desc=f"fold {i + 1}/{folds}"))
        trainer = plan.trainer(plan.build_model()[0])
        fit_status = trainer.fit()
        model = trainer.model
        if fit_status == "stopped":
            status = "stopped"
            break
        res = evaluate_model(model, bundle, "test", recipe.evaluate.metrics)
        fold_metrics = {"loss": res.loss, **res.metrics}
        results.append(fold_metrics)
        if on_fold is not None:
            on_fold(i, fold_metrics)
    return CVResult(results, status)
