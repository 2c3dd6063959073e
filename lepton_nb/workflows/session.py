"""A training session: one run at a time in a background thread, driven from any other thread.

The notebook's kernel stays free while the run trains; Stop/Pause set flags the loop checks
between batches. Every exception of the training thread is caught and kept on the session
(``error``, ``traceback``) with the history gathered so far. Listeners are observers: one that
raises is logged and detached (see `EventBus`), the run goes on.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..artifacts import Run
from ..errors import RecipeError, UsageError
from ..recipe import Recipe
from ..training.changes import check_changes
from ..training.control import Control
from ..training.events import Event, FitEnd, Paused, Resumed
from ..training.history import History
from ..training.trainer import Trainer
from ..warmup import warm_up_in_background
from .fit import train
from .pretrain import pretrain

ACTIVE = ("starting", "running", "paused", "finishing")
PAUSED = "paused before the next batch: ▶ Resume trains on"


def run_call(job: str | Callable[..., Any], recipe: Recipe, *, control: Control | None, data: Any,
             on_progress: Callable[..., None] | None, **kwargs: Any) -> Any:
    """A job a studio runs besides training (the same in a thread and in the worker process).

    ``job`` is ``"lr_find"``, ``"cross_validate"``, or a module-level function of a higher layer (a search,
    `lepton_nb.search.job.search_job`) called as ``job(recipe, control=, data=, on_progress=, **kwargs)``;
    it travels to the worker by reference, as multiprocessing sends functions.
    """
    from .cross_validate import cross_validate
    from .lr_find import lr_find

    if callable(job):
        return job(recipe, control=control, data=data, on_progress=on_progress, **kwargs)
    if job == "lr_find":
        return lr_find(recipe, data, control=control, **kwargs)
    if job == "cross_validate":
        return cross_validate(recipe, control=control, on_fold=on_progress, **kwargs)
    raise UsageError("job", job, "allowed: 'lr_find', 'cross_validate' or a module-level job function")


STAGES = ("train", "pretrain")


def run_stage(recipe: Recipe, *, stage: str = "train", data: Any = None, report: bool = True, **kwargs: Any) -> Run:
    """The run a studio's Start starts (the same in a thread and in the worker process).

    ``stage="train"`` trains the recipe's classifier (`train`); ``"pretrain"`` pretrains its text encoder by
    masked-token prediction (`pretrain`), which reads its own unlabeled corpus (the train split's sentences
    or ``pretrain.path``), so the studio's labelled data and the report do not apply to it.
    """
    if stage == "train":
        return train(recipe, data=data, report=report, **kwargs)
    if stage == "pretrain":
        return pretrain(recipe, **kwargs)
    raise UsageError("stage", stage, f"allowed: {', '.join(STAGES)}")


class Session:
    """Start, pause, resume and stop one training run at a time without blocking the caller."""

    def __init__(self, out: str | Path | None = "runs", progress: bool = False):
        self.out = out
        self.progress = progress
        self._lock = threading.RLock()
        self._thread: threading.Thread | None = None
        self._done = threading.Event()
        self._done.set()
        self._state = "idle"
        self.message = ""
        self.error: BaseException | None = None
        self.traceback = ""
        self.run: Run | None = None
        self.trainer: Trainer | None = None
        self.recipe: Recipe | None = None
        self.history = History()
        self.control = Control()
        self.started_at: float | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._event_listeners: list[Callable[[Event], None]] = []

    # ---- observation -------------------------------------------------------------------------

    @property
    def state(self) -> str:
        """idle, starting, running, paused, finishing, or how the last run ended (completed, stopped, ...)."""
        return self._state

    @property
    def busy(self) -> bool:
        return self._state in ACTIVE

    def on_state(self, callback: Callable[[str], None]) -> Callable[[], None]:
        """Call ``callback(state)`` on every state change (from whichever thread changed it); returns an
        unsubscriber."""
        self._listeners.append(callback)

        def unsubscribe() -> None:
            if callback in self._listeners:
                self._listeners.remove(callback)
        return unsubscribe

    def on_event(self, callback: Callable[[Event], None]) -> None:
        """Subscribe ``callback`` to every trainer event of every future run."""
        self._event_listeners.append(callback)

    def _set_state(self, state: str, message: str | None = None) -> None:
        self._state = state
        if message is not None:
            self.message = message
        for cb in list(self._listeners):
            try:
                cb(state)
            except Exception:  # a broken view must not break training
                traceback.print_exc()

    # ---- commands ----------------------------------------------------------------------------

    def start(self, recipe: Recipe, **train_kwargs: Any) -> bool:
        """Start training ``recipe`` in the background and return at once (``stage="pretrain"``: pretrain its
        text encoder instead, see `run_stage`).

        Returns False (and sets ``message``) when a run is already active: there is never
        a second training thread.
        """
        with self._lock:
            if self.busy:
                self.message = f"a run is already {self._state}: stop it first (one run at a time)"
                return False
            self.recipe = recipe
            self.history = History()
            self.control = Control()
            self.run, self.trainer, self.error, self.traceback = None, None, None, ""
            self._done.clear()
            self.started_at = time.perf_counter()
            self._set_state("starting", "loading data and building the model…")
            self._launch(recipe, train_kwargs)
            return True

    def _launch(self, recipe: Recipe, train_kwargs: dict[str, Any]) -> None:
        self._thread = threading.Thread(target=self._work, args=(recipe, train_kwargs),
                                        name="lepton_nb-training", daemon=True)
        self._thread.start()

    def call(self, job: str | Callable[..., Any], recipe: Recipe, *, control: Control | None = None,
             data: Any = None, on_progress: Callable[..., None] | None = None, **kwargs: Any) -> Any:
        """Run a job (`run_call`: the LR finder, cross-validation, a search) where this session trains (here:
        in the calling thread), blocking; ``control`` stops it, ``on_progress`` gets the job's progress."""
        return run_call(job, recipe, control=control, data=data, on_progress=on_progress, **kwargs)

    def warm_up(self) -> None:
        """Prepare for a run ahead of Start: this session trains in this process, so pay its one-off imports
        (torch._dynamo, scikit-learn) now in a background thread (`lepton_nb.warmup`)."""
        warm_up_in_background()

    def close(self) -> None:
        """Release what the session holds between runs (a thread session holds nothing)."""

    def pause(self) -> None:
        self.control.pause()

    def resume(self, changes: dict[str, Any] | None = None) -> None:
        """Run on; ``changes`` (e.g. ``{"train.lr": 0.001}``) apply from the next batch and are recorded with
        their step. Only a paused run takes changes, and only the fields `train.changes.MID_RUN` allows;
        anything else raises a RecipeError naming the field, the value and what is allowed."""
        if changes:
            trainer, recipe = self.trainer, self.recipe
            if trainer is None or recipe is None or self._state != "paused":
                raise UsageError("changes", changes, f"the run is {self._state}; allowed: changes to a paused run")
            recipe.updated(changes)  # ranges and types, as in the recipe
            problems = check_changes(trainer.cfg, changes, trainer.epoch)
            if problems:
                raise RecipeError(problems)
        self._send_resume(changes)

    def _send_resume(self, changes: dict[str, Any] | None) -> None:
        self.control.resume(changes)

    def stop(self, reason: str = "stopped by user") -> None:
        self.control.stop(reason)

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (True) or ``timeout`` seconds pass (False)."""
        return self._done.wait(timeout)

    # ---- the worker --------------------------------------------------------------------------

    def _attach(self, trainer: Trainer) -> None:
        self.trainer = trainer
        for cb in self._event_listeners:
            trainer.events.subscribe(cb)
        trainer.events.subscribe(lambda e: self._set_state("paused", PAUSED), Paused)
        trainer.events.subscribe(lambda e: self._set_state("running", "training"), Resumed)
        trainer.events.subscribe(self._on_fit_end, FitEnd)
        self._set_state("running", "training")

    def _on_fit_end(self, event: FitEnd) -> None:
        if event.status != "error":
            self._set_state("finishing", "evaluating on the test split and writing the report…")

    def _work(self, recipe: Recipe, train_kwargs: dict[str, Any]) -> None:
        try:
            run = run_stage(recipe, progress=self.progress, out=self.out, control=self.control,
                            history=self.history, on_trainer=self._attach, **train_kwargs)
            self.run = run
            self._set_state(run.status, run.message or run.status)
        except BaseException as exc:  # everything, so the thread never dies silently
            self.error = exc
            self.traceback = traceback.format_exc()
            self._set_state("error", f"{type(exc).__name__}: {exc}")
        finally:
            self._done.set()
