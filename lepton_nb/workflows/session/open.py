"""Which session a studio trains in: `open_session` chooses the runner; `WorkerSession` is a `Session` whose runs
train in the warm training process."""

from __future__ import annotations

import os
from pathlib import Path

from ...errors import UsageError
from .core import Session
from .launch import WORKER_ENV, adopt
from .process import ProcessRunner


class WorkerSession(Session):
    """Like `Session`, but each run trains in the training process, kept warm between runs (`ProcessRunner`)."""

    runner: ProcessRunner

    def __init__(self, out: str | Path | None = "runs", progress: bool = False):
        super().__init__(out=out, progress=progress, runner=ProcessRunner())


RUNNERS = ("process", "thread")


def open_session(worker: str | None = None, out: str | Path | None = "runs") -> Session:
    """The session a studio trains in: ``"process"`` (a warm training process; the default) or ``"thread"``.

    ``None`` reads the environment variable LEPTON_NB_WORKER (default ``"process"``). Use ``"thread"``
    where a notebook server cannot start processes, or to train your own ``nn.Module`` object. Windows
    has no socket pairs to hand to a child process, so it trains in a thread there.
    """
    chosen = worker if worker is not None else os.environ.get(WORKER_ENV, "").strip() or "process"
    if chosen not in RUNNERS:
        field_name = "worker" if worker is not None else WORKER_ENV
        raise UsageError(field_name, chosen, "allowed: 'process' (train in a worker process) or 'thread'")
    if chosen == "thread" or os.name == "nt":
        unused = adopt()  # a process prestarted for a studio that trains in a thread after all
        if unused is not None:
            unused.close()
        return Session(out=out)
    return WorkerSession(out=out)
