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
from ..recipe import AdversarialSection, EarlyStoppingSection, Recipe, TrainSection
from ..training.callbacks import TqdmProgress
from ..training.control import Control
from ..training.history import History
from ..training.trainer import Trainer
from .fit import MAX_EPOCHS_ENV, as_recipe, data_summary, say_capped


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
    recipe = as_recipe(recipe)
    if recipe.kind != "text" or recipe.model.arch != "text_transformer":
        raise RecipeError([Problem("model.arch", recipe.model.arch, f"pretraining predicts masked tokens of text "
                                                                    f"({recipe.data.source} is {recipe.kind}); "
                                                                    "allowed: text_transformer on text data")])
    cap = os.environ.get(MAX_EPOCHS_ENV, "").strip()  # as_recipe has checked it
    if cap and recipe.pretrain.epochs > int(cap):
        say_capped(cap)
        recipe = recipe.updated({"pretrain.epochs": int(cap)})
    if recipe.model.adapter.kind != "none" or recipe.model.init_from:
        recipe = recipe.updated({"model.adapter.kind": "none", "model.init_from": "", "model.freeze": "none"})
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    cfg = pretrain_settings(recipe)
    data = pretrain_data(recipe)
    folder = RunFolder.create(out, f"{recipe.name}-pretrain") if out is not None else None
    if folder is not None:
        folder.write_recipe(recipe)
        folder.write_json("data.json", {**data_summary(data), "pretrain": {"sentences": len(data.train),
                                                                          "source": recipe.pretrain.path or "train"}})
    model = build_masked_lm_model(recipe.model, data.spec(), seed=cfg.seed)
    cbs = list(callbacks) + ([TqdmProgress("pretrain")] if progress else [])
    trainer = Trainer(model, data, cfg, metrics=("accuracy",), history=history, callbacks=cbs, store=folder,
                      control=control, batch_transform=MaskTokens(data.vocab, recipe.pretrain.mask_prob, cfg.seed))
    trainer.history.meta.update({"recipe": recipe.to_dict(), "started": started, "task": "masked-token prediction"})
    if on_trainer is not None:
        on_trainer(trainer)
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
