"""``tune``: a hyperparameter search with Optuna where every trial is an ordinary run.

Each trial applies its values to the recipe (seeds unchanged) and trains it like ``lnb.train`` does, into
its own run folder under the study folder. A callback reports the objective to Optuna at every epoch end
and stops the trial (within a batch) when the pruner says so. The study lives in a database (SQLite in the
study folder by default), so it survives a kernel restart, resumes with ``resume=True`` and can be shared
by several processes and machines (a database server in ``search.storage``). A trial that crashes or diverges
is marked failed or pruned with its message and the study goes on; one whose process died is failed once its
heartbeat is stale, by whichever process or reader looks next (`liveness`).
"""

from __future__ import annotations

import contextlib
import math
import sys
import threading
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from ..artifacts import Run, load_run
from ..data import DataBundle
from ..errors import CheckpointError, LeptonError, UsageError
from ..recipe import Recipe, pruning_note
from ..training.callbacks import Callback, progress_file
from ..training.control import Control
from ..training.events import EpochEnd
from ..workflows import as_recipe, cross_validate, train
from ..workflows.plan import open_init, recipe_data
from .folder import StudyFolder, hide_password, open_storage
from .identity import check_same_search
from .liveness import fail_stale, settle
from .result import Study
from .space import check_searchable, direction, make_pruner, make_sampler, suggest, trial_recipe

PRUNED_REASON = "pruned by the search"


class TrialStopped(Exception):
    """The user stopped the search while this trial ran (the trial is failed; the study stays resumable)."""


class TrialFailed(Exception):
    """A trial that produced no objective value (diverged at once, never measured)."""


class TrialControl(Control):
    """A trial's own stop flag that also obeys the search's: pruning stops one trial, Stop stops the search."""

    def __init__(self, parent: Control):
        self.parent = parent
        self._own_pending = False
        super().__init__()

    @property
    def pending(self) -> bool:  # read by the loop once per batch
        return self._own_pending or self.parent.pending

    @pending.setter
    def pending(self, value: bool) -> None:
        self._own_pending = value

    @property
    def stop_requested(self) -> bool:
        return self._stop or self.parent.stop_requested

    @property
    def reason(self) -> str:
        return self._reason or self.parent.reason

    @reason.setter
    def reason(self, value: str) -> None:
        self._reason = value

    @property
    def paused(self) -> bool:
        return super().paused or self.parent.paused

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        return self.parent.wait_while_paused(timeout) and super().wait_while_paused(timeout)


class TrialPruning(Callback):
    """Reports the objective to Optuna at each epoch end; asks the trial to stop when the pruner says so."""

    def __init__(self, trial: optuna.Trial, objective: str, mode: str):
        self.trial, self.objective, self.mode = trial, objective, mode
        self.best: float | None = None
        self.epochs = 0
        self.pruned = False

    def on_epoch_end(self, event: EpochEnd) -> None:
        self.epochs = event.epoch + 1
        value = event.metrics.get(self.objective)
        if value is None or not math.isfinite(value):
            return
        if self.best is None or (value < self.best if self.mode == "min" else value > self.best):
            self.best = value
        self.trial.report(value, event.epoch)
        if self.trial.should_prune():
            self.pruned = True
            self.trainer.control.stop(PRUNED_REASON)


def finished_count(study: optuna.Study) -> int:
    """Trials that use up the budget: completed, pruned, and failed by their own recipe (not stopped/killed)."""
    n = 0
    for t in study.get_trials(deepcopy=False):
        if t.state in (TrialState.COMPLETE, TrialState.PRUNED) or (
                t.state == TrialState.FAIL and t.user_attrs.get("counts")):
            n += 1
    return n


class _Objective:
    def __init__(self, base: Recipe, folder: StudyFolder, control: Control, data: DataBundle | None,
                 on_run: Callable[[Run], None] | None, reports: bool):
        self.base, self.folder, self.control, self.on_run, self.reports = base, folder, control, on_run, reports
        self.data = data
        self.mode = "min" if direction(base.search) == "minimize" else "max"

    def __call__(self, trial: optuna.Trial) -> float:
        if self.control.stop_requested:
            trial.set_user_attr("message", "stopped before it started")
            trial.set_user_attr("stopped", True)
            raise TrialStopped("stopped before it started")
        try:
            recipe = trial_recipe(self.base, suggest(trial, self.base.search.space), trial.number)
            if self.base.search.cv_folds >= 2:
                return self._cross_validate(trial, recipe)
            return self._train(trial, recipe)
        except (optuna.TrialPruned, TrialStopped, TrialFailed):
            raise
        except Exception as exc:  # the trial's recipe failed: recorded with its message, the study goes on
            trial.set_user_attr("message", f"{type(exc).__name__}: {str(exc)[:500]}")
            trial.set_user_attr("counts", True)
            if not isinstance(exc, LeptonError):  # a bug rather than a refused value: keep where it happened
                trial.set_user_attr("traceback", traceback.format_exc()[-4000:])
            raise

    def _data_for(self, recipe: Recipe) -> DataBundle:
        if self.data is None:  # as `train` builds it: a fine-tuned text model reads its source's tokens
            self.data = recipe_data(self.base, open_init(self.base))
        return self.data.rebind(recipe)

    def _train(self, trial: optuna.Trial, recipe: Recipe) -> float:
        s = recipe.search
        control = TrialControl(self.control)
        pruning = TrialPruning(trial, s.objective, self.mode)

        def attach(trainer: Any) -> None:
            if trainer.store is not None:
                trial.set_user_attr("run_folder", str(trainer.store.path))

        run = train(recipe, progress=False, out=self.folder.runs_dir, control=control, callbacks=[pruning],
                    data=self._data_for(recipe), on_trainer=attach, report=self.reports)
        trial.set_user_attr("run", {"status": run.status, "epochs": pruning.epochs, "test": run.metrics})
        if self.on_run is not None:
            self.on_run(run)
        if pruning.pruned:
            message = f"pruned after epoch {pruning.epochs}"
            trial.set_user_attr("message", message)
            raise optuna.TrialPruned(message)
        if run.status == "stopped":
            trial.set_user_attr("message", run.message or "stopped")
            trial.set_user_attr("stopped", True)
            raise TrialStopped(run.message or "stopped")
        if run.status == "diverged":
            trial.set_user_attr("message", run.message)
            trial.set_user_attr("counts", True)
            if pruning.best is not None:
                raise optuna.TrialPruned(run.message)
            raise TrialFailed(run.message)
        if pruning.best is None:
            message = f"{s.objective} was never measured"
            trial.set_user_attr("message", message)
            trial.set_user_attr("counts", True)
            raise TrialFailed(message)
        return pruning.best

    def _cross_validate(self, trial: optuna.Trial, recipe: Recipe) -> float:
        s = recipe.search
        key = "loss" if s.objective == "val_loss" else s.objective.removeprefix("val_")
        scores: list[float] = []

        def on_fold(i: int, metrics: dict[str, float]) -> None:
            scores.append(metrics[key])
            trial.report(sum(scores) / len(scores), i)
            if trial.should_prune():
                trial.set_user_attr("message", f"pruned after fold {i + 1}")
                raise optuna.TrialPruned(f"pruned after fold {i + 1}")

        result = cross_validate(recipe, s.cv_folds, control=TrialControl(self.control), on_fold=on_fold)
        trial.set_user_attr("cv", result.to_dict())
        if result.status == "stopped":
            trial.set_user_attr("message", "stopped")
            trial.set_user_attr("stopped", True)
            raise TrialStopped("stopped")
        return result.mean[key]


def open_study(folder: StudyFolder, recipe: Recipe, *, resume: bool, worker: int = 0) -> optuna.Study:
    """Create the study (and its folder), or load it to resume / to work on it from another process or machine.

    A study that already exists (resumed, or joined through a shared ``search.storage``) must search the same
    recipe: its objective, direction and recipe hash are kept in the study (`identity`); another is refused.
    Temporary files of dead writers are removed first (a live process's stay).
    """
    folder.remove_stale_temp_files()
    if folder.exists():
        if not resume:
            raise UsageError("resume", False, f"a study of {recipe.name!r} already lives in {folder.path}; allowed: "
                             "resume=True (lepton-nb tune --resume) to continue it, or another out folder or "
                             "recipe name")
        info = folder.read_info()
        url, name, made = info["storage"], info["study_name"], False
    else:
        url, name, made = recipe.search.storage or folder.default_storage, recipe.name, not folder.path.exists()
        folder.path.mkdir(parents=True, exist_ok=True)
    try:
        storage = open_storage(url)
        study = optuna.create_study(storage=storage, study_name=name, sampler=make_sampler(recipe.search),
                                    pruner=make_pruner(recipe.search), direction=direction(recipe.search),
                                    load_if_exists=True)
        check_same_search(study, recipe, hide_password(url) if url != folder.default_storage else str(folder.path))
    except LeptonError:
        if made:  # refused before anything was written: leave no empty study folder behind
            with contextlib.suppress(OSError):
                folder.path.rmdir()
        raise
    if worker == 0:  # study.json last: it marks a folder whose study can be opened
        recipe.to_file(folder.path / "recipe.json")
        folder.write_json("study.json", {"storage": url, "study_name": name})
    fail_stale(study)  # RUNNING trials of dead processes (no heartbeat) become FAIL
    return study


def prepare(recipe: Recipe | dict | str | Path | None, *, trials: int | None = None, timeout: float | None = None,
            storage: str | None = None) -> Recipe:
    """The recipe a search runs: validated, with overrides of its search section, checked to be searchable."""
    recipe = as_recipe(recipe)
    changes = {k: v for k, v in (("search.trials", trials), ("search.timeout", timeout),
                                 ("search.storage", storage)) if v is not None}
    if changes:
        recipe = recipe.updated(changes)
    check_searchable(recipe)
    return recipe


def finish(study: optuna.Study, folder: StudyFolder, recipe: Recipe) -> Study:
    """The study's files: best recipe, trials table, report, and the best trial's run report. Trials that other
    processes left running are first settled: failed once their heartbeat is stale (`liveness.settle`)."""
    settle(study)
    result = Study(study, folder, recipe)
    result.save()
    best_run = result.best_run
    if best_run is not None and best_run.is_dir() and not (best_run / "report.html").exists():
        with contextlib.suppress(CheckpointError):  # trained with train.checkpoint false: nothing to rebuild
            load_run(best_run).report()
    return result


def tune(recipe: Recipe | dict | str | Path | None, out: str | Path = "runs", *, trials: int | None = None,
         timeout: float | None = None, storage: str | None = None, resume: bool = False, progress: bool = True,
         control: Control | None = None, on_trial: Callable[[FrozenTrial], None] | None = None,
         on_run: Callable[[Run], None] | None = None, on_study: Callable[[optuna.Study], None] | None = None,
         worker: int = 0, trial_reports: bool = False, data: DataBundle | None = None) -> Study:
    """Search the recipe's ``search.space`` with Optuna; returns the `Study` (best recipe, trials, figures).

    ``trials``, ``timeout`` and ``storage`` override the recipe's search section. The study folder is
    ``<out>/<name>-search``; ``resume=True`` continues a study there (a finished one just reports).
    ``control`` stops the running trial within a batch and ends the search (resumable). ``on_trial`` gets
    each finished trial, ``on_run`` each trial's `Run`, ``on_study`` the Optuna study once it is open.
    ``worker`` > 0 marks an extra process working on the same study (it writes no report).
    Every trial writes its run folder; its HTML report (seconds of plotting each) only with
    ``trial_reports`` — the best trial's run always gets one, and the study its own.
    """
    recipe = prepare(recipe, trials=trials, timeout=timeout, storage=storage)
    if progress:
        say_pruning_note(recipe)
    s = recipe.search
    folder = StudyFolder.for_recipe(out, recipe)
    optuna.logging.set_verbosity(optuna.logging.ERROR)  # failed trials are in the table, not tracebacks on stderr
    study = open_study(folder, recipe, resume=resume, worker=worker)
    if on_study is not None:
        on_study(study)
    control = control if control is not None else Control()
    bar = _progress_bar(study, s.trials) if progress else None
    lock = threading.Lock()

    def after_trial(st: optuna.Study, trial: FrozenTrial) -> None:
        with lock:
            done = finished_count(st)
            if bar is not None:
                bar.n = min(done, s.trials)
                best = _best_value(st)
                bar.set_postfix_str(f"best {s.objective} {best:.4f}" if best is not None else "", refresh=False)
                bar.refresh()
            if on_trial is not None:
                on_trial(trial)
            if done >= s.trials or control.stop_requested:
                st.stop()

    try:
        if finished_count(study) < s.trials and not control.stop_requested:
            objective = _Objective(recipe, folder, control, data, on_run, trial_reports)
            study.optimize(objective, timeout=s.timeout or None, catch=(Exception,), callbacks=[after_trial],
                           gc_after_trial=False)
    finally:
        if bar is not None:
            bar.close()
    return finish(study, folder, recipe) if worker == 0 else Study(study, folder, recipe)


def say_pruning_note(recipe: Recipe) -> None:
    """Tell whoever watches the progress bar that the pruner can never act (the Search tab shows it too)."""
    note = pruning_note(recipe.search, recipe.train.epochs)
    if note:
        print(f"lepton-nb: {note}", file=sys.stderr, flush=True)


def _best_value(study: optuna.Study) -> float | None:
    try:
        return float(study.best_value)
    except ValueError:  # no completed trial yet
        return None


def _progress_bar(study: optuna.Study, total: int) -> Any:
    from tqdm.std import tqdm  # the plain bar: tqdm.auto would import ipywidgets into the core

    return tqdm(total=total, initial=min(finished_count(study), total), desc="trials", unit="trial",
                dynamic_ncols=True, file=progress_file())
