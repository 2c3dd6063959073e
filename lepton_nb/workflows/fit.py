"""A run: recipe → data → model → Trainer.fit() → test evaluation → run folder and report.

``train()`` is the blocking entry point used by the CLI, notebooks and the studio's background
session alike; the session passes its own ``control`` and ``history`` and subscribes views via
``on_trainer``. Under torchrun the Trainer is handed a `DataParallel` strategy; nothing else here
knows about processes.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from torch import nn

from ..artifacts import Preprocessor, Run, RunFolder
from ..artifacts.run_folder import checkpoint_file, folder_of
from ..data import DataBundle, build_data, tokens_summary
from ..errors import Problem, RecipeError
from ..interpret.probes import AttributionProbes
from ..models import build_model, count_parameters
from ..recipe import Recipe
from ..training.callbacks import EarlyStopping, TqdmProgress
from ..training.checkpoint import load_checkpoint
from ..training.control import Control
from ..training.history import History
from ..training.strategy import SingleProcess, check_batch_size, from_environment
from ..training.trainer import Trainer
from .finetune import initialize, source_tokens
from .source_text import note_held_out

MAX_EPOCHS_ENV = "LEPTON_NB_MAX_EPOCHS"


def as_recipe(recipe: Recipe | dict | str | Path | None) -> Recipe:
    """A validated recipe from a Recipe, a dict or a file (None: the default recipe).

    When the environment variable LEPTON_NB_MAX_EPOCHS is set (quick browser checks run the tutorials with
    it), ``train.epochs`` is capped at its value, and a warning says so.
    """
    if recipe is None:
        out = Recipe.default()
    elif isinstance(recipe, Recipe):
        out = recipe.check()
    elif isinstance(recipe, dict):
        out = Recipe.from_dict(recipe)
    else:
        out = Recipe.from_file(recipe)
    cap = os.environ.get(MAX_EPOCHS_ENV, "").strip()
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            raise RecipeError([Problem(MAX_EPOCHS_ENV, cap, "allowed: a whole number ≥ 1, or unset")])
        if out.train.epochs > int(cap):
            say_capped(cap)
            out = out.updated({"train.epochs": int(cap)})
    return out


def say_capped(cap: str) -> None:
    """Say, once per process, that LEPTON_NB_MAX_EPOCHS shortens runs: a capped notebook must not pass for what a
    student sees."""
    warnings.warn(f"{MAX_EPOCHS_ENV}={cap} caps every run at {cap} epoch(s), a quick test setting: results here "
                  "are not what the recipe gives (unset it for the real run)", UserWarning, stacklevel=3)


def make_trainer(recipe: Recipe, data: DataBundle, *, model: nn.Module | None = None, progress: bool = False,
                 callbacks: Iterable[Any] = (), control: Control | None = None, history: History | None = None,
                 folder: RunFolder | None = None, desc: str = "train",
                 strategy: SingleProcess | None = None) -> Trainer:
    """Model (seeded, with the recipe's initial weights and freezing) and Trainer with the recipe's callbacks;
    the one place both are assembled. Nothing here touches the global RNG."""
    t = recipe.train
    if model is None:
        model = build_model(recipe.model, data.spec(), seed=t.seed)
    init_report = initialize(model, recipe.model, data.spec())
    cbs = list(callbacks)
    if recipe.interpret.enabled:
        cbs.append(AttributionProbes(data, recipe.interpret, recipe.interpret_method))
    if t.early_stopping.enabled:
        cbs.append(EarlyStopping(t.early_stopping))
    if progress:
        cbs.append(TqdmProgress(desc))
    trainer = Trainer(model, data, t, metrics=recipe.evaluate.metrics, history=history, callbacks=cbs,
                      store=folder, control=control, strategy=strategy)
    trainer.init_report = init_report
    return trainer


def fit_bundle(recipe: Recipe, data: DataBundle, *, progress: bool = False, control: Control | None = None,
               desc: str = "train", model: nn.Module | None = None) -> tuple[nn.Module, str]:
    """Train on a prepared bundle without writing anything (cross-validation folds); the model comes back in
    eval mode."""
    trainer = make_trainer(recipe, data, model=model, progress=progress, control=control, desc=desc)
    status = trainer.fit()
    return trainer.model.eval(), status


def train(recipe: Recipe | dict | str | Path | None = None, *, progress: bool = True,
          out: str | Path | None = "runs", callbacks: Iterable[Any] = (), control: Control | None = None,
          history: History | None = None, data: DataBundle | None = None, model: nn.Module | None = None,
          resume: str | Path | None = None, report: bool = True,
          on_trainer: Callable[[Trainer], None] | None = None) -> Run:
    """Train a recipe to the end (blocking) and return the `Run`.

    ``out`` is the folder run folders go in (None: write nothing). ``resume`` continues from a
    checkpoint (a ``last.pt`` or a run folder). ``model`` replaces the recipe's architecture with
    your own ``nn.Module``. Stopping through ``control`` or Ctrl-C ends the run cleanly: it is
    evaluated and reported like any other.

    Under torchrun (several processes), it trains data-parallel (see `lepton_nb.training.strategy`):
    every process returns its Run, and only rank 0 writes the run folder and shows progress.
    """
    recipe = as_recipe(recipe)
    strategy = from_environment(recipe.train.device)
    try:
        run = _train(recipe, strategy, progress=progress, out=out, callbacks=callbacks, control=control,
                     history=history, data=data, model=model, resume=resume, report=report, on_trainer=on_trainer)
    except BaseException:
        strategy.close(wait=False)  # no barrier: a failed process must exit so that torchrun stops the others
        raise
    strategy.close()
    return run


def _train(recipe: Recipe, strategy: SingleProcess, *, progress: bool, out: str | Path | None,
           callbacks: Iterable[Any], control: Control | None, history: History | None, data: DataBundle | None,
           model: nn.Module | None, resume: str | Path | None, report: bool,
           on_trainer: Callable[[Trainer], None] | None) -> Run:
    check_batch_size(recipe, strategy.world_size)
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    resume_state = None
    if resume is not None:
        folder_of(resume).remove_stale_temp_files()
        resume_state = load_checkpoint(checkpoint_file(resume, "last", field="resume"))
    # the data first: data that cannot load leaves no run folder behind (a folder holding only recipe.json)
    data = data if data is not None else build_data(recipe, source_tokens(recipe))
    folder = RunFolder.create(out, recipe.name) if out is not None and strategy.is_main else None
    if folder is not None:
        folder.write_recipe(recipe)
        folder.write_json("data.json", data_summary(data))
        if resume_state is not None:
            folder.adopt_best(folder_of(resume), resume_state.get("epoch"))
    trainer = make_trainer(recipe, data, model=model, progress=progress and strategy.is_main, callbacks=callbacks,
                           control=control, history=history, folder=folder, strategy=strategy)
    trainer.history.meta.update({"recipe": recipe.to_dict(), "started": started})
    note_held_out(trainer, recipe, list(data.test.texts or []))  # test sentences the initial weights have read
    if trainer.init_report is not None:
        trainer.history.meta["init"] = trainer.init_report.to_dict()
    if strategy.world_size > 1:
        info = strategy.to_dict()
        trainer.history.meta["distributed"] = {"world_size": info["world_size"], "backend": info["backend"]}
    if resume_state is not None:
        trainer.resume_from(resume_state)
    if on_trainer is not None:
        on_trainer(trainer)
    status = trainer.fit()
    test_eval = strategy.evaluate(trainer.model, data, "test", recipe.evaluate.metrics) if len(data.test) else None
    run = Run(recipe, folder.path if folder else None, trainer.history, trainer.model, data, data.spec(), data.norm,
              status, trainer.message, test_eval, time.perf_counter() - t0, started, trainer.best_epoch,
              preprocessor=Preprocessor.from_bundle(data, recipe.data.max_len))
    run.extras["parameters"] = parameters = {"trainable": count_parameters(trainer.model, trainable_only=True),
                                             "total": count_parameters(trainer.model)}
    if trainer.init_report is not None:
        run.extras["init"] = trainer.init_report.to_dict()
    if strategy.world_size > 1:
        run.extras["distributed"] = strategy.to_dict()
    if folder is not None:
        folder.write_timeline(trainer.history)
        if trainer.history.meta.get("changes"):  # recipe.json is the start; changes.json what changed when
            folder.write_json("changes.json", trainer.history.meta["changes"])
        folder.write_json("metrics.json", {"status": status, "message": trainer.message, "seconds": run.seconds,
                                           "best_epoch": trainer.best_epoch, "world_size": strategy.world_size,
                                           "parameters": parameters,
                                           "test": test_eval.to_dict() if test_eval else None})
        if report:
            run.report()
    return run


def data_summary(data: DataBundle) -> dict[str, Any]:
    """What the run folder records about its data: spec, sizes, normalization, cleaning, vocabulary."""
    out = {"spec": data.spec().to_dict(), "sizes": data.sizes(), "normalization": data.norm.to_dict(),
           "cleaning": data.cleaning.to_dict(), "augment": data.augment_ops}
    if data.vocab is not None:
        out.update(tokens_summary(data.vocab))
    if data.encoder is not None:
        out["encoder"] = data.encoder.to_dict()
    return out
