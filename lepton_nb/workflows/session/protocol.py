"""The training process's protocol: one frozen dataclass per message each way, pickled over a socket pair.

Standard library only (the kernel can start the process before it imports torch, see `launch`). The payloads
(recipes, data, runs, events) are the package's own objects; their types are named for type checkers only.

kernel → process: `StartRun` and `CallJob` (a job), then commands that act on it at once: `Pause`, `Resume`
(with mid-run changes), `Stop`; `Descriptors` announces the shared-memory descriptors of the next message
(`shared_data`); `Quit`.
process → kernel: `Ready` once; for a run `Attached`, `Progressed`..., then `Finished` and `Reported` (the
report is written after the kernel has the run), or `Failed`; for a call `Progress`..., then `Result` or
`Failed`. `Failed` is the one failure reply, whatever failed.
Each side dispatches on the message's type (``match``).
"""

from __future__ import annotations

import os
import pickle
import socket
import traceback
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ...artifacts import Run
    from ...data import DataBundle
    from ...recipe import Recipe, TrainSection
    from ...training.events import Event


# ---- what a session runs -------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunJob:
    """A run Start asks for: a validated recipe and what to do with it (``stage``: see `jobs.STAGES`)."""

    recipe: Recipe
    stage: str = "train"
    out: str | Path | None = "runs"
    resume: str | Path | None = None
    report: bool = True


@dataclass(frozen=True)
class DataPayload:
    """The data a job uses, keyed so that the process keeps it between jobs: ``kept`` when the process already
    holds the splits of ``key`` (the bundle then travels without them)."""

    key: str
    bundle: DataBundle
    kept: bool = False


@dataclass(frozen=True)
class RunState:
    """What the kernel's mirror of the trainer shows: settings after mid-run changes, position, run folder."""

    cfg: TrainSection
    epoch: int
    global_step: int
    steps_per_epoch: int
    folder: Path | None


# ---- kernel → process ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class StartRun:
    job: RunJob
    data: DataPayload | None = None
    threads: int = 0  # the kernel's torch thread count (0: keep the process's)


@dataclass(frozen=True)
class CallJob:
    """A job besides training (`jobs.CALLS` by name, or a module-level function of a higher layer)."""

    job: Any  # str | Callable[..., Any]: a function travels by reference, as multiprocessing sends them
    recipe: Recipe
    kwargs: dict[str, Any] = field(default_factory=dict)
    data: DataPayload | None = None
    threads: int = 0


@dataclass(frozen=True)
class Pause:
    pass


@dataclass(frozen=True)
class Resume:
    changes: dict[str, Any] | None = None


@dataclass(frozen=True)
class Stop:
    reason: str = "stopped by user"


@dataclass(frozen=True)
class Descriptors:
    count: int


@dataclass(frozen=True)
class Quit:
    pass


Command = Pause | Resume | Stop
Job = StartRun | CallJob
Request = StartRun | CallJob | Pause | Resume | Stop | Descriptors | Quit


# ---- process → kernel ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Ready:
    pid: int


@dataclass(frozen=True)
class Attached:
    state: RunState
    data: DataBundle | None  # the data the process built, when the kernel sent none


@dataclass(frozen=True)
class Progressed:
    """A bundle of the run's events with the history writes before them (``ops``: `training.journal`)."""

    ops: list[Any]
    events: list[Event]
    state: RunState | None


@dataclass(frozen=True)
class Finished:
    run: Run  # without its history and data: the kernel has its own copies
    ops: list[Any]
    state: RunState | None


@dataclass(frozen=True)
class Reported:
    problem: str = ""  # why the report could not be written ('' when it was, or when there is none)


@dataclass(frozen=True)
class Progress:
    args: tuple[Any, ...]


@dataclass(frozen=True)
class Result:
    value: Any


@dataclass(frozen=True)
class Failed:
    """The one failure reply: the exception itself when it survives pickling, its text and traceback, and the
    history writes and state of a run that had started."""

    error: BaseException
    message: str
    traceback: str
    ops: list[Any] = field(default_factory=list)
    state: RunState | None = None

    @classmethod
    def of(cls, exc: BaseException, ops: list[Any] | None = None, state: RunState | None = None) -> Failed:
        """The reply for ``exc`` (call inside its ``except`` block: the traceback is the current one)."""
        return cls(picklable(exc), f"{type(exc).__name__}: {exc}", traceback.format_exc(), ops or [], state)


Reply = Ready | Attached | Progressed | Finished | Reported | Progress | Result | Failed


def picklable(exc: BaseException) -> BaseException:
    """The exception itself when it survives pickling (LeptonErrors do), else a RuntimeError with its text."""
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        return RuntimeError(f"{type(exc).__name__}: {exc}")


# ---- framing ---------------------------------------------------------------------------------------------


def send(conn: Connection, message: Request | Reply) -> None:
    conn.send_bytes(pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL))


def receive(conn: Connection) -> Any:
    """The next message (a `Request` or a `Reply`, whichever end this is)."""
    return pickle.loads(conn.recv_bytes())


def send_fds(fileno: int, fds: list[int]) -> None:
    """Pass ``fds`` over the connected socket ``fileno`` (SCM_RIGHTS; the receiver takes them in step)."""
    with socket.socket(fileno=os.dup(fileno)) as sock:
        socket.send_fds(sock, [b"F"], fds)
