"""A `Session` whose runs train in a warm worker process (see `workflows.worker` for why and the protocol).

The kernel keeps everything the views read: a `History` that replays the worker's journalled writes
before each event is delivered, and a `WorkerTrainer` mirror (settings after mid-run changes, position,
run folder, data, event bus) standing in for the trainer of a thread session. Pause, Resume (with
mid-run changes) and Stop travel to the worker as commands and act before its next batch. When the
worker dies (crash, out of memory, killed), the run ends as an error that says so, the kernel goes on,
and the next Start starts a fresh worker.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..data import DataBundle
from ..errors import UsageError
from ..recipe import Recipe, TrainSection
from ..spawn import WORKER_ENV, TrainingWorker, adopt
from ..training.control import Control
from ..training.events import EventBus
from ..training.journal import replay
from .session import Session
from .shared_data import SharedSplits
from .worker import THREADS, receive


@dataclass
class WorkerTrainer:
    """The kernel's view of the trainer in the worker: what views and mid-run edits read."""

    cfg: TrainSection
    data: DataBundle | None
    epoch: int = 0
    global_step: int = 0
    steps_per_epoch: int = 0
    folder: Path | None = None
    events: EventBus = field(default_factory=EventBus)

    @property
    def train_batches(self) -> range:
        return range(self.steps_per_epoch)

    @property
    def store(self) -> Any:
        return None if self.folder is None else _Folder(self.folder)

    def update(self, state: dict[str, Any] | None) -> None:
        if state is None:
            return
        self.cfg, self.epoch, self.global_step = state["cfg"], state["epoch"], state["global_step"]
        self.steps_per_epoch, self.folder = state["steps_per_epoch"], state["folder"]


@dataclass
class _Folder:
    path: Path


def check_job(job: Callable[..., Any]) -> None:
    """A job function travels to the worker by name: it must be importable there (module level)."""
    try:
        pickle.dumps(job)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise UsageError("job", getattr(job, "__qualname__", repr(job)),
                         f"allowed: a function defined at module level, which the worker imports by name ({exc})"
                         ) from None


def died_message(code: int | None) -> str:
    """Why the worker vanished, in words (a negative code is the signal that killed it)."""
    if code is not None and code < 0:
        import signal

        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the training worker process was killed by {name}{hint}; the kernel is fine: press Start again"
    return f"the training worker process ended unexpectedly (exit code {code}); press Start again"


class WorkerSession(Session):
    """Like `Session`, but each run trains in a worker process kept warm between runs."""

    def __init__(self, out: str | Path | None = "runs", progress: bool = False):
        super().__init__(out=out, progress=progress)
        self.worker: TrainingWorker | None = None
        self._data_sent: Any = None  # the splits object the worker holds (kept alive so its id stays unique)
        self.shared = SharedSplits()  # its large tensors, in memory the kernel and the worker share
        self._job_sent = threading.Event()
        self._calling = False
        self._reader: threading.Thread | None = None
        self.spawn_error = ""

    def warm_up(self) -> None:
        """Start the worker now (it imports torch in the background) so that Start does not wait for it."""
        with self._lock:
            if self.worker is None or not self.worker.alive():
                worker = adopt()  # started when lnb.Studio was first looked up in this kernel, if it was
                try:
                    if worker is None:
                        worker = TrainingWorker()
                        worker.spawn()
                except OSError as exc:  # e.g. a server that forbids new processes
                    self.worker, self.spawn_error = None, (
                        f"cannot start a worker process here ({type(exc).__name__}: {exc}); train in a thread "
                        "instead: lnb.Studio(worker='thread')")
                    return
                self.worker, self._data_sent, self.spawn_error = worker, None, ""

    def close(self) -> None:
        with self._lock:
            if self.worker is not None:
                self.worker.close()
                self.worker = None
            self.shared.close()
            self._data_sent = None  # a later worker gets the data shared anew

    def start(self, recipe: Recipe, **train_kwargs: Any) -> bool:
        if train_kwargs.get("model") is not None:  # a model object of the kernel cannot travel by pickle
            raise UsageError("model", type(train_kwargs["model"]).__name__,
                             "a recipe's model here; your own nn.Module trains in a thread (worker='thread')")
        if self._calling:
            self.message = "the worker is running the LR finder or cross-validation: wait for it first"
            return False
        return super().start(recipe, **train_kwargs)

    def _launch(self, recipe: Recipe, train_kwargs: dict[str, Any]) -> None:
        self._job_sent.clear()
        self.warm_up()
        if self.worker is None:
            self.error = RuntimeError(self.spawn_error)
            self._set_state("error", self.spawn_error)
            self._done.set()
            return
        previous = self._reader  # still reading the last run's report, maybe
        self._thread = self._reader = threading.Thread(target=self._work, args=(recipe, train_kwargs, previous),
                                                       name="lepton_nb-worker-reader", daemon=True)
        self._thread.start()

    def pause(self) -> None:
        self.control.pause()
        self._command(("pause",))

    def stop(self, reason: str = "stopped by user") -> None:
        self.control.stop(reason)
        self._command(("stop", reason))

    def _send_resume(self, changes: dict[str, Any] | None) -> None:
        self.control.resume(changes)
        self._command(("resume", changes))

    def _command(self, message: tuple[Any, ...]) -> None:
        """Send to the worker once its job is there (the local ``control`` keeps earlier commands)."""
        with self._lock:
            self._send_now(message)

    def _send_now(self, message: tuple[Any, ...]) -> None:
        worker = self.worker
        if worker is not None and self._job_sent.is_set() and self.busy:
            with contextlib.suppress(OSError):  # a dead worker is reported by the reader
                worker.send(message)

    def _payload(self, data: DataBundle | None) -> tuple[str | None, DataBundle | None]:
        """(key, data to send): data travels once per data recipe (by the identity of its splits)."""
        if data is None:
            return None, None
        key = f"{os.getpid()}:{id(data.splits)}"
        if self.worker is not None and self.worker.data_key == key:
            return key, dataclasses.replace(data, splits=None, _ready={})
        if data.splits is not self._data_sent:  # new data: its large tensors move to shared memory, once
            self.shared.share(data.splits)
            self._data_sent = data.splits
        return key, dataclasses.replace(data, _ready={})  # the worker prepares its own batches

    def _job(self, recipe: Recipe, kwargs: dict[str, Any]) -> tuple[Any, ...]:
        key, data = self._payload(kwargs.pop("data", None))
        return ("train", recipe, {**kwargs, THREADS: torch.get_num_threads()}, key, data, self.out)

    def call(self, job: str | Callable[..., Any], recipe: Recipe, *, control: Control | None = None,
             data: DataBundle | None = None, on_progress: Callable[..., None] | None = None, **kwargs: Any) -> Any:
        """Run a job (`run_call`: the LR finder, cross-validation, a search) in the worker, blocking;
        ``control`` stops it, ``on_progress`` gets what the job reports, in the calling thread."""
        if callable(job):
            check_job(job)
        with self._lock:
            if self.busy or self._calling:
                raise UsageError("worker", "busy", "one job at a time: wait for the run (or the job) to end")
            self._calling = True
        try:
            if self._reader is not None:
                self._reader.join()  # the last run's report is still being written
            self.warm_up()
            worker = self.worker
            if worker is None or worker.conn is None:
                raise RuntimeError(self.spawn_error)
            if not worker.wait_ready():
                raise RuntimeError(worker.error)
            key, payload = self._payload(data)
            self.shared.send(worker, ("call", job, recipe, {**kwargs, THREADS: torch.get_num_threads()}, key, payload))
            worker.data_key = key
            stop_sent = False
            while True:
                if control is not None and control.stop_requested and not stop_sent:
                    worker.send(("stop", control.reason))
                    stop_sent = True
                try:
                    if not worker.conn.poll(0.1):
                        continue
                    msg = receive(worker.conn)
                except (EOFError, OSError):
                    self.worker = None
                    raise RuntimeError(died_message(worker.exit_code())) from None
                if msg[0] == "progress" and on_progress is not None:
                    on_progress(*msg[1:])
                elif msg[0] == "result":
                    return msg[1]
                elif msg[0] == "failed":
                    raise msg[1]
        finally:
            self._calling = False

    def _work(self, recipe: Recipe, train_kwargs: dict[str, Any], previous: threading.Thread | None) -> None:
        worker = self.worker
        assert worker is not None
        data = train_kwargs.get("data")
        if previous is not None:
            previous.join()  # the last run's report: one reader of the connection at a time
        me = threading.current_thread()
        try:
            if not worker.wait_ready():
                raise RuntimeError(worker.error)
            job = self._job(recipe, dict(train_kwargs))
            with self._lock:  # commands given while the worker started follow the job
                self.shared.send(worker, job)
                worker.data_key = job[3]
                self._job_sent.set()
                if self.control.stop_requested:
                    worker.send(("stop", self.control.reason))
                elif self.control.paused:
                    worker.send(("pause",))
            self._follow(worker, recipe, data)
        except BaseException as exc:  # everything, so the reader never dies silently
            self.error = exc
            self.traceback = traceback.format_exc()
            self._set_state("error", f"{type(exc).__name__}: {exc}")
            if not worker.alive():
                self.worker = None
        finally:
            if self._reader is me:  # not when the next run started while this one's report was written
                self._done.set()

    def _follow(self, worker: TrainingWorker, recipe: Recipe, data: DataBundle | None) -> None:
        """Mirror the run's messages until it ends (done, failed, or the worker died)."""
        assert worker.conn is not None
        mirror = WorkerTrainer(recipe.train, data)
        while True:
            try:
                msg = receive(worker.conn)
            except (EOFError, OSError):
                self.worker = None
                code = worker.exit_code()
                self.error = RuntimeError(died_message(code))
                self.traceback = ""
                worker.data_key = None
                self._set_state("error", died_message(code))
                return
            kind = msg[0]
            if kind == "attached":
                mirror.update(msg[1])
                if mirror.data is None:  # built by the worker: the views get its copy
                    mirror.data = data = msg[2]
                self._attach(mirror)  # type: ignore[arg-type]  # the mirror has what views read
            elif kind == "events":
                _, ops, events, state = msg
                replay(self.history, ops)
                mirror.update(state)
                for event in events:
                    if hasattr(event, "global_step"):
                        mirror.global_step, mirror.epoch = event.global_step, event.epoch
                    mirror.events.emit(event)
            elif kind == "done":  # the run is the kernel's now; its report follows ("reported")
                _, run, ops, state = msg
                replay(self.history, ops)
                mirror.update(state)
                run.history, run.data = self.history, data if data is not None else run.data
                self.run = run
                self._set_state(run.status, run.message or run.status)
            elif kind == "reported":
                if msg[1] and self.run is not None:
                    self.run.message = f"{self.run.message}; {msg[1]}" if self.run.message else msg[1]
                return
            elif kind == "failed":
                _, exc, message, tb, ops, state = msg
                replay(self.history, ops)
                mirror.update(state)
                self.error, self.traceback = exc, tb
                self._set_state("error", message)
                return


WORKERS = ("process", "thread")


def open_session(worker: str | None = None, out: str | Path | None = "runs") -> Session:
    """The session a studio trains in: ``"process"`` (a warm worker process; the default) or ``"thread"``.

    ``None`` reads the environment variable LEPTON_NB_WORKER (default ``"process"``). Use ``"thread"``
    where a notebook server cannot start processes, or to train your own ``nn.Module`` object. Windows
    has no socket pairs to hand to a child process, so it trains in a thread there.
    """
    chosen = worker if worker is not None else os.environ.get(WORKER_ENV, "").strip() or "process"
    if chosen not in WORKERS:
        field_name = "worker" if worker is not None else WORKER_ENV
        raise UsageError(field_name, chosen, "allowed: 'process' (train in a worker process) or 'thread'")
    if chosen == "thread" or os.name == "nt":
        unused = adopt()  # a worker prestarted for a studio that trains in a thread after all
        if unused is not None:
            unused.close()
        return Session(out=out)
    return WorkerSession(out=out)
