"""A `Runner` whose runs train in a warm training process (see `serve` for why, and `protocol`).

The kernel mirrors the run (`mirror.RunMirror`) from the process's messages. Pause, Resume (with mid-run
changes) and Stop travel as commands and act before the process's next batch. When the process dies (crash,
out of memory, killed), the run ends as an error that says so, the kernel goes on, and the next Start starts a
fresh process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pickle
import signal
import threading
import traceback
from collections.abc import Callable
from typing import Any

import torch

from ...data import DataBundle
from ...errors import UsageError
from ...recipe import Recipe
from ...training.control import Control
from ...training.journal import replay
from .host import Host
from .launch import TrainingProcess, adopt
from .mirror import RunMirror
from .protocol import (
    Attached,
    CallJob,
    Command,
    DataPayload,
    Failed,
    Finished,
    Pause,
    Progress,
    Progressed,
    Reported,
    Result,
    RunJob,
    StartRun,
    Stop,
    receive,
)
from .shared_data import SharedSplits


def check_job(job: Callable[..., Any]) -> None:
    """A job function travels to the process by name: it must be importable there (module level)."""
    try:
        pickle.dumps(job)
    except (pickle.PicklingError, AttributeError, TypeError) as exc:
        raise UsageError("job", getattr(job, "__qualname__", repr(job)),
                         f"allowed: a function defined at module level, which the worker imports by name ({exc})"
                         ) from None


def died_message(code: int | None) -> str:
    """Why the process vanished, in words (a negative code is the signal that killed it)."""
    if code is not None and code < 0:
        name = signal.Signals(-code).name if -code in signal.Signals._value2member_map_ else str(-code)
        hint = " (out of memory?)" if name == "SIGKILL" else ""
        return f"the training worker process was killed by {name}{hint}; the kernel is fine: press Start again"
    return f"the training worker process ended unexpectedly (exit code {code}); press Start again"


class ProcessRunner:
    """Runs each job in the training process, kept warm between jobs; one job at a time."""

    def __init__(self) -> None:
        self.session: Host | None = None
        self.process: TrainingProcess | None = None
        self._data_sent: Any = None  # the splits object the process holds (kept alive so its id stays unique)
        self.shared = SharedSplits()  # its large tensors, in memory the kernel and the process share
        self._lock = threading.RLock()
        self._job_sent = threading.Event()
        self._calling = False
        self._reader: threading.Thread | None = None
        self.spawn_error = ""

    def bind(self, session: Host) -> None:
        self.session = session

    def warm_up(self) -> None:
        """Start the process now (it imports torch in the background) so that Start does not wait for it."""
        with self._lock:
            if self.process is None or not self.process.alive():
                process = adopt()  # started when lnb.Studio was first looked up in this kernel, if it was
                try:
                    if process is None:
                        process = TrainingProcess()
                        process.spawn()
                except OSError as exc:  # e.g. a server that forbids new processes
                    self.process, self.spawn_error = None, (
                        f"cannot start a worker process here ({type(exc).__name__}: {exc}); train in a thread "
                        "instead: lnb.Studio(worker='thread')")
                    return
                self.process, self._data_sent, self.spawn_error = process, None, ""

    def close(self) -> None:
        with self._lock:
            if self.process is not None:
                self.process.close()
                self.process = None
            self.shared.close()
            self._data_sent = None  # a later process gets the data shared anew

    def admit(self, model: Any) -> str:
        if model is not None:  # a model object of the kernel cannot travel by pickle
            raise UsageError("model", type(model).__name__,
                             "a recipe's model here; your own nn.Module trains in a thread (worker='thread')")
        return "the worker is running the LR finder or cross-validation: wait for it first" if self._calling else ""

    def launch(self, job: RunJob, data: DataBundle | None, model: Any) -> None:
        session = self.session
        assert session is not None
        self._job_sent.clear()
        self.warm_up()
        if self.process is None:
            session.fail(RuntimeError(self.spawn_error), "", self.spawn_error)
            session.ended()
            return
        previous = self._reader  # still reading the last run's report, maybe
        self._reader = threading.Thread(target=self._work, args=(job, data, previous),
                                        name="lepton_nb-process-reader", daemon=True)
        self._reader.start()

    def command(self, command: Command) -> None:
        """Send to the process once its job is there (the session's control keeps earlier commands)."""
        with self._lock:
            process, session = self.process, self.session
            if process is not None and session is not None and self._job_sent.is_set() and session.busy:
                with contextlib.suppress(OSError):  # a dead process is reported by the reader
                    process.send(command)

    def _payload(self, data: DataBundle | None) -> DataPayload | None:
        """The data to send: it travels once per data recipe (by the identity of its splits)."""
        if data is None:
            return None
        key = f"{os.getpid()}:{id(data.splits)}"
        if self.process is not None and self.process.data_key == key:
            return DataPayload(key, dataclasses.replace(data, splits={}, _ready={}), kept=True)
        if data.splits is not self._data_sent:  # new data: its large tensors move to shared memory, once
            self.shared.share(data.splits)
            self._data_sent = data.splits
        return DataPayload(key, dataclasses.replace(data, _ready={}))  # the process prepares its own batches

    def call(self, job: str | Callable[..., Any], recipe: Recipe, control: Control | None, data: DataBundle | None,
             on_progress: Callable[..., None] | None, kwargs: dict[str, Any]) -> Any:
        """In the process, blocking; progress reaches ``on_progress`` in the calling thread."""
        if callable(job):
            check_job(job)
        session = self.session
        with self._lock:
            if (session is not None and session.busy) or self._calling:
                raise UsageError("worker", "busy", "one job at a time: wait for the run (or the job) to end")
            self._calling = True
        try:
            if self._reader is not None:
                self._reader.join()  # the last run's report is still being written
            self.warm_up()
            process = self.process
            if process is None or process.conn is None:
                raise RuntimeError(self.spawn_error)
            if not process.wait_ready():
                raise RuntimeError(process.error)
            payload = self._payload(data)
            self.shared.send(process, CallJob(job, recipe, kwargs, payload, torch.get_num_threads()))
            process.data_key = payload.key if payload is not None else None
            stop_sent = False
            while True:
                if control is not None and control.stop_requested and not stop_sent:
                    process.send(Stop(control.reason))
                    stop_sent = True
                try:
                    if not process.conn.poll(0.1):
                        continue
                    message = receive(process.conn)
                except (EOFError, OSError):
                    self.process = None
                    raise RuntimeError(died_message(process.exit_code())) from None
                match message:
                    case Progress(args=args):
                        if on_progress is not None:
                            on_progress(*args)
                    case Result(value=value):
                        return value
                    case Failed(error=error):
                        raise error
        finally:
            self._calling = False

    def _work(self, job: RunJob, data: DataBundle | None, previous: threading.Thread | None) -> None:
        process, session = self.process, self.session
        assert process is not None and session is not None
        if previous is not None:
            previous.join()  # the last run's report: one reader of the connection at a time
        me = threading.current_thread()
        try:
            if not process.wait_ready():
                raise RuntimeError(process.error)
            payload = self._payload(data)
            with self._lock:  # commands given while the process started follow the job
                self.shared.send(process, StartRun(job, payload, torch.get_num_threads()))
                process.data_key = payload.key if payload is not None else None
                self._job_sent.set()
                if session.control.stop_requested:
                    process.send(Stop(session.control.reason))
                elif session.control.paused:
                    process.send(Pause())
            self._follow(process, session, job, data)
        except BaseException as exc:  # everything, so the reader never dies silently
            session.fail(exc, traceback.format_exc())
            if not process.alive():
                self.process = None
        finally:
            if self._reader is me:  # not when the next run started while this one's report was written
                session.ended()

    def _follow(self, process: TrainingProcess, session: Host, job: RunJob, data: DataBundle | None) -> None:
        """Mirror the run's messages until it ends (finished and reported, failed, or the process died)."""
        assert process.conn is not None
        mirror = RunMirror(job.recipe.train, data)
        while True:
            try:
                message = receive(process.conn)
            except (EOFError, OSError):
                self.process = None
                process.data_key = None
                died = died_message(process.exit_code())
                session.fail(RuntimeError(died), "", died)
                return
            match message:
                case Attached(state=state, data=sent):
                    mirror.update(state)
                    if mirror.data is None:  # built by the process: the views get its copy
                        mirror.data = data = sent
                    session.attach(mirror)
                case Progressed(ops=ops, events=events, state=state):
                    replay(session.history, ops)
                    mirror.update(state)
                    for event in events:
                        step = getattr(event, "global_step", None)
                        if step is not None:
                            mirror.global_step, mirror.epoch = step, getattr(event, "epoch", mirror.epoch)
                        mirror.events.emit(event)
                case Finished(run=run, ops=ops, state=state):  # the run is the kernel's now; its report follows
                    replay(session.history, ops)
                    mirror.update(state)
                    run.history, run.data = session.history, data if data is not None else run.data
                    session.finish(run)
                case Reported(problem=problem):
                    last = session.run
                    if problem and last is not None:
                        last.message = f"{last.message}; {problem}" if last.message else problem
                    return
                case Failed() as failed:
                    replay(session.history, failed.ops)
                    mirror.update(failed.state)
                    session.fail(failed.error, failed.traceback, failed.message)
                    return
