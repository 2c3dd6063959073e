"""The training process, started by the `ProcessRunner` with its end of a socket pair (``main([fd])``).

Why a process: a training loop in a thread of the notebook's kernel shares the kernel's GIL and torch thread
pool with the live views and whatever the user runs, and measured 1.4–1.9× slower than the same loop alone; in
its own process it runs at bare-loop speed and nothing in the kernel can change its random state. The process
imports torch once and stays warm between runs, keeping the last data it was sent.

It speaks the `protocol`. The main thread runs jobs one after another; a reader thread applies commands to the
active job's `Control` at once and ends the process when the kernel goes away (the connection closes: kernel
restart, crash or kill).
"""

from __future__ import annotations

import dataclasses
import os
import queue
import signal
import threading
import time
from multiprocessing.connection import Connection
from typing import Any

import torch

from ...artifacts import Run
from ...data import DataBundle
from ...training.control import Control
from ...training.events import EVENT_TYPES, BatchEnd, BatchStart, Changed, Event
from ...training.history import History
from ...training.journal import JournalHistory
from ...training.observers import Observers
from ...training.trainer import Trainer
from .jobs import call_job, run_job, stage_of
from .protocol import (
    Attached,
    CallJob,
    DataPayload,
    Descriptors,
    Failed,
    Finished,
    Job,
    Pause,
    Progress,
    Progressed,
    Quit,
    Ready,
    Reported,
    Result,
    Resume,
    RunState,
    StartRun,
    Stop,
    receive,
    send,
)
from .shared_data import receive_fds, release_incoming

FLUSH_SECONDS = 0.05  # batch events are sent in bundles at most this old; every other event at once
# what the kernel's views use: not BatchStart, so the training loop does not build one per batch for us
FORWARDED = tuple(t for t in (*EVENT_TYPES, Changed) if t is not BatchStart)


def run_state(trainer: Trainer | None) -> RunState | None:
    """What the kernel's mirror of the trainer shows (settings after mid-run changes, position, folder)."""
    if trainer is None:
        return None
    return RunState(trainer.cfg, trainer.epoch, trainer.global_step, len(trainer.train_batches),
                    getattr(trainer.store, "path", None))


def use_threads(threads: int) -> None:
    """Train with the kernel's torch thread count (``torch.set_num_threads(n)`` in the notebook applies to the
    next job)."""
    if threads and threads != torch.get_num_threads():
        torch.set_num_threads(threads)


class Forwarder:
    """Sends the run's events and history writes to the kernel (runs on the training thread)."""

    def __init__(self, conn: Connection, history: JournalHistory, send_data: bool):
        self.conn, self.history, self.send_data = conn, history, send_data
        self.trainer: Trainer | None = None
        self.pending: list[Event] = []
        self.last = time.perf_counter()

    def attach(self, trainer: Trainer) -> None:
        self.trainer = trainer
        trainer.events.subscribe(self.on_event, *FORWARDED, observer=False)  # a broken pipe must end the run
        state = run_state(trainer)
        assert state is not None
        send(self.conn, Attached(state, trainer.data if self.send_data else None))

    def on_event(self, event: Event) -> None:
        self.pending.append(event)
        now = time.perf_counter()
        if isinstance(event, BatchEnd) and now - self.last < FLUSH_SECONDS:
            return
        self.flush(with_state=not isinstance(event, BatchEnd))
        self.last = now

    def flush(self, with_state: bool = True) -> None:
        events, self.pending = self.pending, []
        ops = self.history.take(with_meta=with_state)
        send(self.conn, Progressed(ops, events, run_state(self.trainer) if with_state else None))


class Server:
    """Runs jobs one after another; commands reach the active job's Control from the reader thread."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.jobs: queue.Queue[Job | Quit] = queue.Queue()
        self.control = Control()
        self.data: tuple[str, Any] | None = None  # (key, splits) of the last data sent

    def read(self) -> None:
        """Reader thread: commands act at once; jobs queue for the main thread; a closed connection ends us."""
        while True:
            try:
                message = receive(self.conn)
            except (EOFError, OSError):
                os._exit(0)  # the kernel is gone: never outlive it
            except Exception as exc:  # a job that cannot be unpickled here (e.g. its module does not import)
                send(self.conn, Failed.of(exc))
                continue
            release_incoming()  # descriptors that came with this message: its tensors are mapped now
            match message:
                case Descriptors(count=count):  # shared-memory descriptors for the next message (`shared_data`)
                    receive_fds(self.conn.fileno(), count)
                case Pause():
                    self.control.pause()
                case Resume(changes=changes):
                    self.control.resume(changes)
                case Stop(reason=reason):
                    self.control.stop(reason)
                case StartRun() | CallJob():
                    self.control = Control()  # commands that follow the job act on it
                    self.jobs.put(message)
                case Quit():
                    self.jobs.put(message)

    def serve(self) -> None:
        threading.Thread(target=self.read, name="lepton_nb-process-commands", daemon=True).start()
        send(self.conn, Ready(os.getpid()))
        while True:
            match self.jobs.get():
                case Quit():
                    return
                case StartRun() as start:
                    self.run(start)
                case CallJob() as call:
                    self.call(call)

    def bundle(self, payload: DataPayload | None) -> DataBundle | None:
        """The data to train on: sent now, or the splits kept from an earlier job with the same key."""
        if payload is None:
            return None
        data = payload.bundle
        if payload.kept:
            if self.data is None or self.data[0] != payload.key:
                raise RuntimeError("the training process lost its data; start the run again")
            return dataclasses.replace(data, splits=self.data[1])
        self.data = (payload.key, data.splits)
        return data

    def call(self, call: CallJob) -> None:
        """A job besides training (LR finder, cross-validation, a search), its progress sent back."""
        use_threads(call.threads)
        try:
            result = call_job(call.job, call.recipe, control=self.control, data=self.bundle(call.data),
                              on_progress=lambda *args: send(self.conn, Progress(args)), **call.kwargs)
        except BaseException as exc:
            send(self.conn, Failed.of(exc))
            return
        send(self.conn, Result(result))

    def run(self, start: StartRun) -> None:
        history = JournalHistory()
        forward = Forwarder(self.conn, history, send_data=start.data is None)
        use_threads(start.threads)
        try:
            run = run_job(start.job, Observers(history, (), self.control), data=self.bundle(start.data),
                          report=False, on_trainer=forward.attach)
        except BaseException as exc:  # reported to the kernel; the process serves the next job
            forward.pending.clear()
            send(self.conn, Failed.of(exc, history.take(), run_state(forward.trainer)))
            return
        forward.pending.clear()
        # the kernel keeps its own copies of the history and the data
        send(self.conn, Finished(dataclasses.replace(run, history=History(), data=None), history.take(),
                                 run_state(forward.trainer)))
        # the report (seconds of matplotlib) is written after the kernel has the run: the studio is usable
        send(self.conn, Reported(self.report(start, run)))

    @staticmethod
    def report(start: StartRun, run: Run) -> str:
        """Write the run's report when its stage has one; why it could not be written ('' when it was)."""
        if not (start.job.report and stage_of(start.job).reports and run.dir is not None):
            return ""
        try:
            run.report()
        except Exception as exc:  # the run stands without its report; the kernel says why
            return f"the report could not be written: {type(exc).__name__}: {exc}"
        return ""


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupting a notebook cell must not stop a training run
    conn = Connection(int(argv[0]))  # our end of the socket pair the kernel made
    import torch  # noqa: F401 - imported before Ready: the process is warm when the kernel sees it

    from ...warmup import warm_up

    warm_up()
    Server(conn).serve()
    return 0
