"""k-fold cross-validation of a recipe: one model per fold, statistics refitted on each fold's training part."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from torch import nn

from ..artifacts.init_source import InitSource
from ..data import DataBundle, kfold_bundles
from ..errors import UsageError
from ..evaluation import evaluate_model
from ..recipe import Recipe
from ..training.control import Control
from ..training.observers import Observers
from .fold_pretrain import fold_tokenizer, pretrained_fold_model, without_init
from .plan import RunOptions, fold_plan, open_init
from .source_text import source_text


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

    Normalization statistics, vocabularies and encoders are refitted on each fold's training part. A text
    recipe fine-tuning a masked-token encoder (``model.init_from`` a pretraining run) pretrains it again on
    each fold's training part, as that run did (`workflows.fold_pretrain`); one fine-tuning a classifier that
    has read held-out sentences is refused (see `workflows.source_text`). A ``control`` lets another thread
    stop between (and within) folds.
    """
    folds = recipe.evaluate.cv_folds if folds is None or folds == 0 else folds
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= 50:
        raise UsageError("folds", folds, "allowed: a whole number from 2 to 50 (each fold holds out 1/folds of "
                         "the data), or 0/None for evaluate.cv_folds")
    results: list[dict[str, float]] = []
    status = "completed"
    init = open_init(recipe)  # read once for every fold
    control = control if control is not None else Control()
    source = source_text(recipe, init)
    per_fold = source is not None and source.pretrain
    tokens = fold_tokenizer(source) if source is not None and per_fold else init.tokens if init else None
    for i, bundle in kfold_bundles(recipe, folds, tokens):
        if source is not None and not per_fold and source.seen(bundle.test.texts or []):
            raise UsageError("model.init_from", recipe.model.init_from, f"{source.what()} "
                             f"{source.seen(bundle.test.texts or [])} of the {len(bundle.test)} held-out sentences of "
                             f"fold {i + 1}: cross-validation would score it on text it learned; allowed: "
                             "cross-validate that run's recipe, or start from a run on other data")
        options = RunOptions(progress=progress, desc=f"fold {i + 1}/{folds}")
        if source is not None and per_fold:
            options = replace(options, model=pretrained_fold_model(recipe, source, bundle, control))
            model, fit_status = fit_fold(without_init(recipe), bundle, None, Observers(control=control), options)
        else:
            model, fit_status = fit_fold(recipe, bundle, init, Observers(control=control), options)
        if fit_status == "stopped":
            status = "stopped"
            break
        res = evaluate_model(model, bundle, "test", recipe.evaluate.metrics)
        fold_metrics = {"loss": res.loss, **res.metrics}
        results.append(fold_metrics)
        if on_fold is not None:
            on_fold(i, fold_metrics)
    return CVResult(results, status)


def fit_fold(recipe: Recipe, data: DataBundle, init: InitSource | None, observers: Observers,
             options: RunOptions) -> tuple[nn.Module, str]:
    """Train one fold's plan (writes nothing): its model (in eval mode), and how the fit ended."""
    plan = fold_plan(recipe, data, init, observers, options)
    trainer = plan.trainer(plan.build_model()[0])
    status = trainer.fit()
    return trainer.model.eval(), status
