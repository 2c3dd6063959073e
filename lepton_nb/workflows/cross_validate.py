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
from .finetune import source_tokens
from .fit import fit_bundle


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
        lines = [f"{len(self.folds)}-fold cross-validation ({self.status}): each fold's model scored on the fold it "
                 "did not train on; mean ± standard deviation over the folds"]
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
    for i, bundle in kfold_bundles(recipe, folds, source_tokens(recipe)):
        model, fit_status = fit_bundle(recipe, bundle, progress=progress, control=control,
                                       desc=f"fold {i + 1}/{folds}")
        if fit_status == "stopped":
            status = "stopped"
            break
        res = evaluate_model(model, bundle, "test", recipe.evaluate.metrics)
        fold_metrics = {"loss": res.loss, **res.metrics}
        results.append(fold_metrics)
        if on_fold is not None:
            on_fold(i, fold_metrics)
    return CVResult(results, status)
