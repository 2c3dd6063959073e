"""A run: recipe → plan (`plan_run`) → model → Trainer.fit() → test evaluation → run folder and report.

``train()`` is the blocking entry point used by the CLI, notebooks and the studio's session alike; the
session passes its own control and history and subscribes views through ``on_trainer``. Under torchrun the
plan holds a `DataParallel` strategy; nothing else here knows about processes.
"""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Callable, Iterable
from dataclasses import replace
from datetime import datetime
from pathlib import Path
from typing import Any

from torch import nn

from ..artifacts import Preprocessor, Run, RunFolder
from ..artifacts.run_folder import folder_of
from ..data import DataBundle, tokens_summary
from ..errors import Problem, RecipeError
from ..models import count_parameters
from ..recipe import Recipe
from ..training.control import Control
from ..training.history import History
from ..training.observers import Observers
from ..training.trainer import Trainer
from .plan import RunOptions, RunPlan, fold_plan, observed, plan_run

MAX_EPOCHS_ENV = "LEPTON_NB_MAX_EPOCHS"


def as_recipe(recipe: Recipe | dict | str | Path | None) -> Recipe:
    """A validated recipe from a Recipe, a dict or a file (None: the default recipe): the one validation on a
    recipe's way to a run.

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


def make_trainer(recipe: Recipe, data: DataBundle, *, model: nn.Module | None = None,
                 folder: RunFolder | None = None, **observed: Any) -> Trainer:
    """A Trainer of the recipe's model (or ``model``) on prepared data, as a test builds one: it writes into
    ``folder`` only (``history``, ``callbacks``, ``control``: see `Observers`)."""
    plan = replace(fold_plan(recipe, data, None, Observers(**observed), RunOptions(model=model)), folder=folder)
    return plan.trainer(plan.build_model()[0])


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
    options = RunOptions(out, resume, data, model, report, progress, on_trainer=on_trainer)
    return run_recipe(as_recipe(recipe), options, observed(history, callbacks, control))


def run_recipe(recipe: Recipe, options: RunOptions, observers: Observers) -> Run:
    """Plan a validated recipe and run the plan."""
    return run_plan(plan_run(recipe, options, observers))


def run_plan(plan: RunPlan) -> Run:
    """Train a plan to the end, evaluate it on the test split, and write its run folder. The strategy is closed
    whatever happens (a failed process leaves without waiting, so that torchrun stops the others)."""
    try:
        run = _fit(plan)
    except BaseException:
        plan.strategy.close(wait=False)
        raise
    plan.strategy.close()
    return run


def _fit(plan: RunPlan) -> Run:
    recipe, data, folder, strategy = plan.recipe, plan.data, plan.folder, plan.strategy
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    if folder is not None:  # the plan made it after the data loaded: data that cannot load leaves no folder
        folder.write_recipe(recipe)
        folder.write_json("data.json", data_summary(data))
        if plan.resume is not None and plan.options.resume is not None:
            folder.adopt_best(folder_of(plan.options.resume), plan.resume.get("epoch"))
    model, init_report = plan.build_model()
    trainer = plan.trainer(model)
    meta = trainer.history.meta
    meta.update({"recipe": recipe.to_dict(), "started": started})
    extras: dict[str, Any] = {}
    seen = plan.held_out  # test sentences the initial weights have read
    if seen is not None:
        meta["held_out_seen"] = seen
        if init_report is not None:
            init_report.note = "; ".join(n for n in (init_report.note, seen["note"]) if n)
    if init_report is not None:
        meta["init"] = extras["init"] = init_report.to_dict()
    if strategy.world_size > 1:
        extras["distributed"] = info = strategy.to_dict()
        meta["distributed"] = {"world_size": info["world_size"], "backend": info["backend"]}
    if plan.resume is not None:
        trainer.resume_from(plan.resume)
    if plan.options.on_trainer is not None:
        plan.options.on_trainer(trainer)
    status = trainer.fit()
    test_eval = strategy.evaluate(trainer.model, data, "test", plan.metrics) if len(data.test) else None
    run = Run(recipe, folder.path if folder else None, trainer.history, trainer.model, data, data.spec(), data.norm,
              status, trainer.message, test_eval, time.perf_counter() - t0, started, trainer.best_epoch,
              preprocessor=Preprocessor.from_bundle(data, recipe.data.max_len))
    run.extras["parameters"] = parameters = {"trainable": count_parameters(trainer.model, trainable_only=True),
                                             "total": count_parameters(trainer.model)}
    run.extras.update(extras)
    if folder is not None:
        folder.write_timeline(trainer.history)
        if meta.get("changes"):  # recipe.json is the start; changes.json what changed when
            folder.write_json("changes.json", meta["changes"])
        folder.write_json("metrics.json", {"status": status, "message": trainer.message, "seconds": run.seconds,
                                           "best_epoch": trainer.best_epoch, "world_size": strategy.world_size,
                                           "parameters": parameters,
                                           "test": test_eval.to_dict() if test_eval else None})
        if plan.options.report:
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
