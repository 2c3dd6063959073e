"""The training worker process, started by `WorkerSession` with its end of a socket pair (``main([fd])``).

Why a process: a training loop in a thread of the notebook's kernel shares the kernel's GIL and torch
thread pool with the live views and whatever the user runs, and measured 1.4–1.9× slower than the same
loop alone; in its own process it runs at bare-loop speed and nothing in the kernel can change its random
state. The worker imports torch once and stays warm between runs, keeping the last data it was sent.

Protocol: pickled tuples over a socket pair (`send`/`receive`). The data is sent once per data recipe and
kept; its large tensors travel as shared-memory descriptors (`shared_data`), smaller ones are copied.
kernel → worker: ``("train", recipe, kwargs, data_key, data_or_None, out)``, ``("pause",)``, ``("fds", n)``
(then n shared-memory descriptors for the next message's large tensors, see `shared_data`),
``("call", job, recipe, kwargs, data_key, data_or_None)`` (LR finder, cross-validation, a search),
``("resume", changes)``, ``("stop", reason)``, ``("quit",)``;
worker → kernel: ``("ready", pid)``, ``("attached", state, data_or_None)``, ``("events", ops, events, state)``,
``("done", run, ops, state)`` then ``("reported", problem)``, ``("progress", *args)``, ``("result", value)``,
``("failed", error, message, traceback, ops, state)``.
The main thread trains; a reader thread applies commands to the run's `Control` at once and ends the
worker when the kernel goes away (the connection closes: kernel restart, crash or kill).
"""

from __future__ import annotations

import dataclasses
import os
import pickle
import queue
import signal
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any

import torch

from ..spawn import receive, send
from ..training.control import Control
from ..training.events import EVENT_TYPES, BatchEnd, BatchStart, Changed, Event
from ..training.journal import JournalHistory
from ..training.trainer import Trainer
from .shared_data import receive_fds, release_incoming

THREADS = "_threads"  # the key under which a job's kwargs carry the kernel's torch thread count
FLUSH_SECONDS = 0.05  # batch events are sent in bundles at most this old; every other event at once
# what the kernel's views use: not BatchStart, so the training loop does not build one per batch for us
FORWARDED = tuple(t for t in (*EVENT_TYPES, Changed) if t is not BatchStart)


def use_threads(kwargs: dict[str, Any]) -> None:
    """Train with the kernel's torch thread count, which the job's kwargs carry (``torch.set_num_threads(n)``
    in the notebook applies to the next job)."""
    threads = kwargs.pop(THREADS, None)
    if threads and threads != torch.get_num_threads():
        torch.set_num_threads(threads)


def trainer_state(trainer: Trainer) -> dict[str, Any]:
    """What the kernel's mirror of the trainer shows (settings after mid-run changes, position, folder)."""
    return {"cfg": trainer.cfg, "epoch": trainer.epoch, "global_step": trainer.global_step,
            "steps_per_epoch": len(trainer.train_batches), "folder": getattr(trainer.store, "path", None)}


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
        send(self.conn, ("attached", trainer_state(trainer), trainer.data if self.send_data else None))

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
        state = trainer_state(self.trainer) if with_state and self.trainer is not None else None
        send(self.conn, ("events", ops, events, state))


def picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (LeptonErrors do), else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


class Worker:
    """Runs training jobs one after another; commands reach the active run's Control from the reader."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.jobs: queue.Queue[tuple[Any, ...]] = queue.Queue()
        self.control = Control()
        self.data: tuple[str, Any] | None = None  # (key, splits) of the last data sent

    def read(self) -> None:
        """Reader thread: commands act at once; jobs queue for the main thread; a closed connection ends us."""
        while True:
            try:
                msg = receive(self.conn)
            except (EOFError, OSError):
                os._exit(0)  # the kernel is gone: never outlive it
            except Exception as exc:  # a job that cannot be unpickled here (e.g. its module does not import)
                send(self.conn, ("failed", picklable(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                                 [], None))
                continue
            release_incoming()  # descriptors that came with this message: its tensors are mapped now
            kind = msg[0]
            if kind == "fds":  # shared-memory descriptors for the next message (`shared_data`)
                receive_fds(self.conn.fileno(), msg[1])
            elif kind == "pause":
                self.control.pause()
            elif kind == "resume":
                self.control.resume(msg[1])
            elif kind == "stop":
                self.control.stop(msg[1])
            else:
                if kind in ("train", "call"):  # commands that follow the job act on it
                    self.control = Control()
                self.jobs.put(msg)

    def serve(self) -> None:
        threading.Thread(target=self.read, name="lepton_nb-worker-commands", daemon=True).start()
        send(self.conn, ("ready", os.getpid()))
        while True:
            msg = self.jobs.get()
            if msg[0] == "quit":
                return
            if msg[0] == "train":
                self.train(*msg[1:])
            elif msg[0] == "call":
                self.call(*msg[1:])

    def bundle(self, key: str | None, data: Any) -> Any:
        """The data to train on: sent now, or the splits kept from an earlier job with the same key."""
        if data is None:
            return None
        if data.splits is None:
            if self.data is None or self.data[0] != key:
                raise RuntimeError("the worker lost its data; start the run again")
            return dataclasses.replace(data, splits=self.data[1])
        self.data = (key, data.splits) if key is not None else None
        return data

    def call(self, job: Any, recipe: Any, kwargs: dict[str, Any], key: str | None, data: Any) -> None:
        """A job of `session.run_call` (LR finder, cross-validation, a search), its progress sent back."""
        from .session import run_call

        use_threads(kwargs)
        try:
            result = run_call(job, recipe, control=self.control, data=self.bundle(key, data),
                              on_progress=lambda *args: send(self.conn, ("progress", *args)), **kwargs)
        except BaseException as exc:
            send(self.conn, ("failed", picklable(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                             [], None))
            return
        send(self.conn, ("result", result))

    def train(self, recipe: Any, kwargs: dict[str, Any], key: str | None, data: Any, out: Any) -> None:
        from .session import run_stage

        control = self.control
        history = JournalHistory()
        forward = Forwarder(self.conn, history, send_data=data is None)
        report = kwargs.pop("report", True) and kwargs.get("stage", "train") == "train"  # pretraining has none
        use_threads(kwargs)
        try:
            run = run_stage(recipe, progress=False, out=out, control=control, history=history,
                            data=self.bundle(key, data), on_trainer=forward.attach, report=False, **kwargs)
        except BaseException as exc:  # reported to the kernel; the worker serves the next job
            forward.pending.clear()
            state = trainer_state(forward.trainer) if forward.trainer is not None else None
            send(self.conn, ("failed", picklable(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc(),
                            history.take(), state))
            return
        forward.pending.clear()
        state = trainer_state(forward.trainer) if forward.trainer is not None else None
        # the kernel keeps its own copies of the history and the data
        send(self.conn, ("done", dataclasses.replace(run, history=None, data=None), history.take(), state))
        # the report (seconds of matplotlib) is written after the kernel has the run: the studio is usable
        problem = ""
        if report and run.dir is not None:
            try:
                run.report()
            except Exception as exc:  # the run stands without its report; the kernel says why
                problem = f"the report could not be written: {type(exc).__name__}: {exc}"
        send(self.conn, ("reported", problem))


def main(argv: list[str]) -> int:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # interrupting a notebook cell must not stop a training run
    conn = Connection(int(argv[0]))  # our end of the socket pair the kernel made
    import torch  # noqa: F401 - imported before "ready": the worker is warm when the kernel sees it

    from ..warmup import warm_up

    warm_up()
    Worker(conn).serve()
    return 0

