"""`RunPlan`: everything a run reads, resolved once before it starts.

``plan_run(recipe, options, observers)`` turns a validated recipe and what the caller adds (`RunOptions`: the
run folder's place, a checkpoint to resume, data or a model of its own) into a plan: the data, the other run
it starts from (`InitSource`: weights, tokenizer, classes, read once through `RunFolder`), the resume state,
the new run folder, the strategy (one process or data-parallel) and the observers. The model, its batch
steps (adversarial examples...) and callbacks (probes, early stopping) are then built from the plan alone, so
`lnb.train`, the studio's training process, cross-validation folds, the LR finder and search trials all
train what the plan says: the LR finder probes the model Start would train (same initial weights, frozen
parts, adapters).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from torch import nn

from ..artifacts import RunFolder
from ..artifacts.init_source import InitSource, resume_state
from ..data import DataBundle, build_data
from ..data.steps import BatchStep
from ..interpret.probes import AttributionProbes
from ..models import build_model
from ..recipe import DATA_KINDS, Recipe, TrainSection
from ..robust.training import adversarial_steps
from ..training.callbacks import EarlyStopping, TqdmProgress
from ..training.control import Control
from ..training.history import History
from ..training.observers import Observers
from ..training.strategy import SingleProcess, check_batch_size, from_environment
from ..training.trainer import Trainer
from .finetune import InitReport, initialize
from .source_text import held_out_seen


@dataclass(frozen=True)
class RunOptions:
    """What a caller adds to a recipe: where run folders go (None: nowhere), a checkpoint to continue, data or a
    model of its own instead of the recipe's, a report at the end, a progress bar (``desc``), and a hook that
    is handed the Trainer before it fits (the studio's session subscribes its views there)."""

    out: str | Path | None = "runs"
    resume: str | Path | None = None
    data: DataBundle | None = None
    model: nn.Module | None = None
    report: bool = True
    progress: bool = False
    desc: str = "train"
    on_trainer: Callable[[Trainer], None] | None = None


@dataclass
class RunPlan:
    """A run's resolved inputs. ``settings`` is what the loop follows: the recipe's train section, or
    pretraining's own (`lepton_nb.workflows.pretraining`)."""

    recipe: Recipe
    settings: TrainSection
    data: DataBundle
    observers: Observers
    strategy: SingleProcess = field(default_factory=SingleProcess)
    options: RunOptions = field(default_factory=RunOptions)
    init: InitSource | None = None
    resume: dict[str, Any] | None = None
    folder: RunFolder | None = None
    steps: Sequence[BatchStep] = ()  # besides the recipe's own (its adversarial training)
    probes: bool = True  # the recipe's attribution probes watch the run (when it enables them)
    metrics: Sequence[str] = ("accuracy",)
    held_out: dict[str, Any] | None = None  # test sentences the initial weights have read (`held_out_seen`)

    def build_model(self) -> tuple[nn.Module, InitReport | None]:
        """The model this run trains: the caller's own, or the recipe's architecture (seeded), with the recipe's
        initial weights, frozen parts and adapters applied; and where its weights came from."""
        model = self.options.model
        if model is None:
            model = build_model(self.recipe.model, self.data.spec(), seed=self.settings.seed)
        return model, initialize(model, self.recipe.model, self.data.spec(), self.init)

    def batch_steps(self) -> list[BatchStep]:
        """The plan's own batch steps, then the recipe's adversarial training (if any)."""
        return [*self.steps, *adversarial_steps(self.settings, self.data)]

    def callbacks(self) -> list[Any]:
        """The observers' callbacks, then the recipe's: attribution probes, early stopping, a progress bar."""
        out = list(self.observers.callbacks)
        recipe = self.recipe
        if self.probes and recipe.interpret.enabled:
            out.append(AttributionProbes(self.data, recipe.interpret, recipe.interpret_method))
        if self.settings.early_stopping.enabled:
            out.append(EarlyStopping(self.settings.early_stopping))
        if self.options.progress and self.strategy.is_main:
            out.append(TqdmProgress(self.options.desc))
        return out

    def trainer(self, model: nn.Module) -> Trainer:
        """The Trainer of ``model`` on this plan (the resume state is the caller's to load: `run_plan`)."""
        return Trainer(model, self.data, self.settings, metrics=self.metrics,
                       observers=replace(self.observers, callbacks=self.callbacks()), store=self.folder,
                       strategy=self.strategy, steps=self.batch_steps())


def open_init(recipe: Recipe) -> InitSource | None:
    """The run ``model.init_from`` names, read once (None when the recipe starts from fresh weights)."""
    return InitSource.open(recipe.model.init_from) if recipe.model.init_from else None


def recipe_data(recipe: Recipe, init: InitSource | None) -> DataBundle:
    """The recipe's data; a text run that fine-tunes another reads its sentences with that run's tokenizer."""
    return build_data(recipe, init.tokens if init is not None else None)


@dataclass
class Inputs:
    """What a run reads from outside before it starts."""

    strategy: SingleProcess
    data: DataBundle
    init: InitSource | None
    resume: dict[str, Any] | None
    folder: RunFolder | None


def resolve_inputs(recipe: Recipe, options: RunOptions, strategy: SingleProcess | None) -> Inputs:
    """Top-down by layer: the other runs (its start, the checkpoint it continues), the strategy, the data, and the
    new run folder (made last, so a missing source or bad data leaves nothing behind)."""
    init = InitSource.open(recipe.model.init_from) if recipe.model.init_from else None
    resume = resume_state(options.resume) if options.resume is not None else None
    strategy = strategy if strategy is not None else from_environment(recipe.train.device)
    try:
        check_batch_size(recipe, strategy.world_size)
        data = options.data if options.data is not None else build_data(recipe, init.tokens if init else None)
        folder = RunFolder.create(options.out, recipe.name) if options.out is not None and strategy.is_main else None
    except BaseException:
        strategy.close(wait=False)  # a failed process leaves without waiting, so that torchrun stops the others
        raise
    return Inputs(strategy, data, init, resume, folder)


def plan_run(recipe: Recipe, options: RunOptions | None = None, observers: Observers | None = None,
             strategy: SingleProcess | None = None) -> RunPlan:
    """Resolve a validated recipe into a `RunPlan` (see the module docstring). ``strategy`` defaults to this
    process's (`from_environment`: data-parallel under torchrun)."""
    options = options if options is not None else RunOptions()
    found = resolve_inputs(recipe, options, strategy)
    held_out = (held_out_seen(recipe, list(found.data.test.texts or []), found.init)
                if found.init is not None and DATA_KINDS[recipe.kind].tokens else None)  # a fine-tuned text encoder
    return RunPlan(recipe, recipe.train, found.data, observers if observers is not None else Observers(),
                   found.strategy, options, found.init, found.resume, found.folder, metrics=recipe.evaluate.metrics,
                   held_out=held_out)


def observed(history: History | None = None, callbacks: Sequence[Any] = (),
             control: Control | None = None) -> Observers:
    """`Observers` from what a caller passed (a fresh history and control where it passed none)."""
    return Observers(history if history is not None else History(), tuple(callbacks),
                     control if control is not None else Control())


def fold_plan(recipe: Recipe, data: DataBundle, init: InitSource | None, observers: Observers,
              options: RunOptions | None = None) -> RunPlan:
    """The plan of one run on prepared data that writes nothing (a cross-validation fold, the LR finder)."""
    options = replace(options or RunOptions(), out=None, data=data)
    return RunPlan(recipe, recipe.train, data, observers, SingleProcess(), options, init,
                   metrics=recipe.evaluate.metrics)
