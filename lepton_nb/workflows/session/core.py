"""A training session: one run at a time in the background, driven from any other thread.

`Session` keeps what the caller observes (state, history, the trainer as views read it, the run, the error)
and takes the commands (start, pause, resume with mid-run changes, stop); where the run trains is its
`Runner`'s business: a thread of this process (`ThreadRunner`) or the warm training process
(`ProcessRunner`, see `serve`). Every exception of a run is caught and kept on the session (``error``,
``traceback``) with the history gathered so far. Listeners are observers: one that raises is logged and
detached (see `EventBus`), the run goes on.
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from ...artifacts import Run
from ...data import DataBundle
from ...errors import RecipeError, UsageError
from ...recipe import Recipe
from ...training.changes import check_changes
from ...training.control import Control
from ...training.events import Event, FitEnd, Paused, Resumed
from ...training.history import History
from .host import Host
from .mirror import RunView
from .protocol import Command, Pause, Resume, RunJob, Stop
from .thread import ThreadRunner

ACTIVE = ("starting", "running", "paused", "finishing")
PAUSED = "paused before the next batch: ▶ Resume trains on"


class Runner(Protocol):
    """Where a session's runs and calls execute; it reports back to its `Host` (the session): `attach`,
    `finish`, `fail` and `ended`."""

    def bind(self, session: Host) -> None: ...

    def admit(self, model: Any) -> str:
        """'' when a run may start now, else why not; raises a `UsageError` for what it can never take."""
        ...

    def launch(self, job: RunJob, data: DataBundle | None, model: Any) -> None:
        """Start ``job`` in the background and return at once."""
        ...

    def call(self, job: str | Callable[..., Any], recipe: Recipe, control: Control | None, data: DataBundle | None,
             on_progress: Callable[..., None] | None, kwargs: dict[str, Any]) -> Any:
        """Run a job besides training (`jobs.call_job`) where runs train, blocking."""
        ...

    def command(self, command: Command) -> None:
        """Pass a command to the active run (the session has already applied it to its own control)."""
        ...

    def warm_up(self) -> None: ...

    def close(self) -> None: ...


class Session:
    """Start, pause, resume and stop one training run at a time without blocking the caller.

    ``runner`` decides where runs train (default: a `ThreadRunner`, a thread of this process).
    """

    def __init__(self, out: str | Path | None = "runs", progress: bool = False, runner: Runner | None = None):
        self.out = out
        self.progress = progress
        self._lock = threading.RLock()
        self._done = threading.Event()
        self._done.set()
        self._state = "idle"
        self.message = ""
        self.error: BaseException | None = None
        self.traceback = ""
        self.run: Run | None = None
        self.trainer: RunView | None = None
        self.recipe: Recipe | None = None
        self.history = History()
        self.control = Control()
        self.started_at: float | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._event_listeners: list[Callable[[Event], None]] = []
        self.runner: Runner = runner if runner is not None else ThreadRunner()
        self.runner.bind(self)

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

    def start(self, recipe: Recipe, *, stage: str = "train", data: DataBundle | None = None, model: Any = None,
              resume: str | Path | None = None, report: bool = True) -> bool:
        """Start ``recipe`` in the background and return at once: ``stage="train"`` trains it, ``"pretrain"``
        pretrains its text encoder (`jobs.STAGES`). The recipe is validated once, where the run starts
        (`jobs.run_job`); a problem ends the run as an error naming it.

        Returns False (and sets ``message``) when a run is already active: there is never a second run.
        """
        refusal = self.runner.admit(model)
        with self._lock:
            if refusal or self.busy:
                self.message = refusal or f"a run is already {self._state}: stop it first (one run at a time)"
                return False
            self.recipe = recipe
            self.history = History()
            self.control = Control()
            self.run, self.trainer, self.error, self.traceback = None, None, None, ""
            self._done.clear()
            self.started_at = time.perf_counter()
            self._set_state("starting", "loading data and building the model…")
            self.runner.launch(RunJob(recipe, stage, self.out, resume, report), data, model)
            return True

    def call(self, job: str | Callable[..., Any], recipe: Recipe, *, control: Control | None = None,
             data: DataBundle | None = None, on_progress: Callable[..., None] | None = None, **kwargs: Any) -> Any:
        """Run a job (`jobs.call_job`: the LR finder, cross-validation, a search) where this session trains,
        blocking; ``control`` stops it, ``on_progress`` gets the job's progress in the calling thread."""
        return self.runner.call(job, recipe, control, data, on_progress, kwargs)

    def warm_up(self) -> None:
        """Prepare for a run ahead of Start (the training process starts, or this process imports the one-off
        parts of torch in the background)."""
        self.runner.warm_up()

    def close(self) -> None:
        """Release what the runner holds between runs (the training process)."""
        self.runner.close()

    def pause(self) -> None:
        self.control.pause()
        self.runner.command(Pause())

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
        self.control.resume(changes)
        self.runner.command(Resume(changes))

    def stop(self, reason: str = "stopped by user") -> None:
        self.control.stop(reason)
        self.runner.command(Stop(reason))

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (True) or ``timeout`` seconds pass (False)."""
        return self._done.wait(timeout)

    # ---- what runners report -----------------------------------------------------------------

    def attach(self, view: RunView) -> None:
        """The run's trainer exists (or its mirror): the session's listeners follow its events."""
        self.trainer = view
        for cb in self._event_listeners:
            view.events.subscribe(cb)
        view.events.subscribe(lambda e: self._set_state("paused", PAUSED), Paused)
        view.events.subscribe(lambda e: self._set_state("running", "training"), Resumed)
        view.events.subscribe(self._on_fit_end, FitEnd)
        self._set_state("running", "training")

    def _on_fit_end(self, event: Event) -> None:
        if isinstance(event, FitEnd) and event.status != "error":
            self._set_state("finishing", "evaluating on the test split and writing the report…")

    def finish(self, run: Run) -> None:
        self.run = run
        self._set_state(run.status, run.message or run.status)

    def fail(self, error: BaseException, tb: str, message: str | None = None) -> None:
        self.error, self.traceback = error, tb
        self._set_state("error", message if message is not None else f"{type(error).__name__}: {error}")

    def ended(self) -> None:
        """The run is over and everything it reports has arrived."""
        self._done.set()
