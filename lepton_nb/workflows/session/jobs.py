"""What a session runs, the same in a thread and in the training process: a run (`run_job`, a stage of
`STAGES`) or a call (`call_job`: one of `CALLS` by name, or a module-level function of a higher layer, such
as the search's `lepton_nb.search.job.search_job`, which travels to the process by reference)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ...artifacts import Run
from ...data import DataBundle
from ...errors import UsageError
from ...recipe import Recipe
from ...training.control import Control
from ...training.observers import Observers
from ...training.trainer import Trainer
from ..fit import as_recipe, run_recipe
from ..kfold import cross_validate
from ..lr_range import lr_find
from ..plan import RunOptions
from ..pretraining import pretrain_plan, run_pretraining
from .protocol import RunJob


def _pretrain(recipe: Recipe, options: RunOptions, observers: Observers) -> Run:
    return run_pretraining(pretrain_plan(recipe, options, observers))


@dataclass(frozen=True)
class Stage:
    """What Start does with a recipe: ``run`` it, and whether the run ends with an HTML report."""

    run: Callable[[Recipe, RunOptions, Observers], Run]
    reports: bool


STAGES: dict[str, Stage] = {
    "train": Stage(run_recipe, reports=True),  # the recipe's classifier (`lnb.train`)
    # its text encoder, by masked-token prediction (`lnb.pretrain`): reads its own unlabeled corpus (the
    # train split's sentences or ``pretrain.path``), so the studio's labelled data and a report do not apply
    "pretrain": Stage(_pretrain, reports=False),
}


def stage_of(job: RunJob) -> Stage:
    stage = STAGES.get(job.stage)
    if stage is None:
        raise UsageError("stage", job.stage, f"allowed: {', '.join(STAGES)}")
    return stage


def run_job(job: RunJob, observers: Observers, *, data: DataBundle | None = None, model: Any = None,
            progress: bool = False, report: bool = True,
            on_trainer: Callable[[Trainer], None] | None = None) -> Run:
    """Run ``job`` to its end (blocking): its recipe is validated here, once on its way to the run. ``report``
    False leaves the report to the caller (the training process writes it after the kernel has the run)."""
    stage = stage_of(job)
    data = data if stage.reports else None  # pretraining reads its own corpus
    options = RunOptions(job.out, job.resume, data, model, job.report and report and stage.reports, progress,
                         on_trainer=on_trainer)
    return stage.run(as_recipe(job.recipe), options, observers)


def _lr_find(recipe: Recipe, *, control: Control | None, data: DataBundle | None,
             on_progress: Callable[..., None] | None, **kwargs: Any) -> Any:
    return lr_find(recipe, data, control=control, **kwargs)


def _cross_validate(recipe: Recipe, *, control: Control | None, data: DataBundle | None,
                    on_progress: Callable[..., None] | None, **kwargs: Any) -> Any:
    return cross_validate(recipe, control=control, on_fold=on_progress, **kwargs)


CALLS: dict[str, Callable[..., Any]] = {"lr_find": _lr_find, "cross_validate": _cross_validate}


def call_job(job: str | Callable[..., Any], recipe: Recipe, *, control: Control | None, data: DataBundle | None,
             on_progress: Callable[..., None] | None, **kwargs: Any) -> Any:
    """A job besides training, called as ``job(recipe, control=, data=, on_progress=, **kwargs)``."""
    function = job if callable(job) else CALLS.get(job)
    if function is None:
        raise UsageError("job", job, "allowed: 'lr_find', 'cross_validate' or a module-level job function")
    return function(recipe, control=control, data=data, on_progress=on_progress, **kwargs)
