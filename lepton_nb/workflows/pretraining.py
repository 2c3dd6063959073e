"""Self-supervised pretraining: a transformer encoder learns to predict masked tokens of unlabeled text.

``lnb.pretrain(recipe)`` trains the recipe's ``text_transformer`` encoder with a masked-token head on the
train split's sentences (labels unused; never validation or test sentences) or on ``pretrain.path``,
with the same Trainer, events and history as any run, so the live monitor shows the masked-token loss
(``train_loss``) and accuracy (``train_accuracy``). Its run folder holds the encoder and the tokenizer;
``model.init_from`` = that folder transfers the encoder into a classifier (the head starts fresh) and
reuses the tokenizer.
"""

from __future__ import annotations

import dataclasses
import os
import time
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from ..artifacts import Run, RunFolder
from ..data.pretrain import MaskTokens, pretrain_data
from ..errors import Problem, RecipeError
from ..models import build_masked_lm_model, count_parameters
from ..recipe import ARCHS, AdversarialSection, EarlyStoppingSection, Recipe, TrainSection
from ..training.control import Control
from ..training.history import History
from ..training.observers import Observers
from ..training.trainer import Trainer
from .fit import MAX_EPOCHS_ENV, as_recipe, data_summary, say_capped
from .plan import RunOptions, RunPlan, observed


def pretrain_settings(recipe: Recipe) -> TrainSection:
    """The recipe's training settings with the pretraining epochs, rate and batch size (no early stopping,
    no label smoothing, no adversarial training)."""
    p = recipe.pretrain
    return dataclasses.replace(recipe.train, epochs=p.epochs, lr=p.lr, batch_size=p.batch_size, label_smoothing=0.0,
                               early_stopping=EarlyStoppingSection(), adversarial=AdversarialSection())


def pretrain(recipe: Recipe | dict | str | Path | None, *, progress: bool = True, out: str | Path | None = "runs",
             callbacks: Iterable[Any] = (), control: Control | None = None, history: History | None = None,
             on_trainer: Callable[[Trainer], None] | None = None) -> Run:
    """Pretrain the recipe's transformer encoder by masked-token prediction (blocking); returns the `Run`.

    The run folder is named ``<name>-pretrain-<date>-<time>``; give it to ``model.init_from`` to fine-tune.
    LEPTON_NB_MAX_EPOCHS caps ``pretrain.epochs`` as it caps ``train.epochs``.
    """
    options = RunOptions(out, report=False, progress=progress, desc="pretrain", on_trainer=on_trainer)
    return run_pretraining(pretrain_plan(as_recipe(recipe), options, observed(history, callbacks, control)))


def pretrain_plan(recipe: Recipe, options: RunOptions, observers: Observers) -> RunPlan:
    """The plan of a pretraining run: the unlabeled corpus, a masked-token model, `MaskTokens` as its batch step."""
    if not ARCHS[recipe.model.arch].encoder:
        encoders = " or ".join(name for name, arch in ARCHS.items() if arch.encoder)
        raise RecipeError([Problem("model.arch", recipe.model.arch, f"pretraining predicts masked tokens of text "
                                                                    f"({recipe.data.source} is {recipe.kind}); "
                                                                    f"allowed: {encoders} on text data")])
    cap = os.environ.get(MAX_EPOCHS_ENV, "").strip()  # as_recipe has checked it
    if cap and recipe.pretrain.epochs > int(cap):
        say_capped(cap)
        recipe = recipe.updated({"pretrain.epochs": int(cap)})
    if recipe.model.adapter.kind != "none" or recipe.model.init_from:
        recipe = recipe.updated({"model.adapter.kind": "none", "model.init_from": "", "model.freeze": "none"})
    cfg = pretrain_settings(recipe)
    data = pretrain_data(recipe)
    model = build_masked_lm_model(recipe.model, data.spec(), seed=cfg.seed)
    folder = RunFolder.create(options.out, f"{recipe.name}-pretrain") if options.out is not None else None
    return RunPlan(recipe, cfg, data, observers, options=dataclasses.replace(options, model=model), folder=folder,
                   steps=[MaskTokens(data.vocab, recipe.pretrain.mask_prob, cfg.seed)], probes=False)


def run_pretraining(plan: RunPlan) -> Run:
    """Pretrain to the end and write the run folder (its recipe, corpus description and metrics)."""
    recipe, data, folder = plan.recipe, plan.data, plan.folder
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    if folder is not None:
        folder.write_recipe(recipe)
        folder.write_json("data.json", {**data_summary(data), "pretrain": {"sentences": len(data.train),
                                                                          "source": recipe.pretrain.path or "train"}})
    model, _ = plan.build_model()
    trainer = plan.trainer(model)
    trainer.history.meta.update({"recipe": recipe.to_dict(), "started": started, "task": "masked-token prediction"})
    if plan.options.on_trainer is not None:
        plan.options.on_trainer(trainer)
    status = trainer.fit()
    last = trainer.history.epochs[-1] if trainer.history.epochs else {}
    final = {"masked_loss": last.get("train_loss"), "masked_accuracy": last.get("train_accuracy")}
    seconds = time.perf_counter() - t0
    parameters = {"trainable": count_parameters(model, trainable_only=True), "total": count_parameters(model)}
    if folder is not None:
        folder.write_json("metrics.json", {"status": status, "message": trainer.message, "seconds": seconds,
                                           "best_epoch": trainer.best_epoch, "task": "pretrain",
                                           "parameters": parameters, **final})
    return Run(recipe, folder.path if folder else None, trainer.history, trainer.model, data, data.spec(), data.norm,
               status, trainer.message, None, seconds, started, trainer.best_epoch,
               extras={"pretrain": final, "sentences": len(data.train), "parameters": parameters})
