"""Files written so that a crash never leaves half of one: the one atomic write of the package.

Every file a run, a search or a class writes goes through `atomic_write` (or `atomic_path`, for writers that
need a file name): the bytes go to a temporary file ``.NAME.PID.tmp`` in the same folder, are flushed and
fsynced, the temporary file is renamed over the target and the folder is fsynced (as Lightning writes
checkpoints). A reader therefore sees the previous file or the new one, never a mix; after a power loss the
rename itself is on disk. A writer killed mid-write leaves only its temporary file, which
`remove_stale_temp_files` deletes when the folder is next opened — never the file of a writer that is still
alive (its PID is in the name; PIDs are per machine, so a folder is written from one machine at a time).

Fault injection: with ``LEPTON_NB_KILL_AT_WRITE=k`` set, the process ends as SIGKILL would at its k-th kill
point; every write has two (its temporary file complete but not yet renamed, then the file in place).
``LEPTON_NB_WRITE_LOG=FILE`` appends one line per kill point (number, stage, path): how a test learns how
many points a scenario has. Standard library only: the bottom layer.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

TEMP_GLOB = ".*.tmp"  # what an interrupted `atomic_write` leaves behind
KILL_ENV = "LEPTON_NB_KILL_AT_WRITE"
WRITE_LOG_ENV = "LEPTON_NB_WRITE_LOG"
_points = {"n": 0}  # kill points passed by this process


def temp_name(path: Path) -> Path:
    """The temporary file `atomic_write` writes ``path`` through (in the same folder, named by our PID)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def atomic_write(path: str | Path, content: bytes | str | Callable[[IO[bytes]], Any]) -> Path:
    """Write ``content`` (bytes, text as UTF-8, or a function that writes to a binary file object) to ``path``
    atomically: temporary file, flush, fsync, rename, fsync the folder. Creates missing parent folders."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        with open(tmp, "wb") as fh:
            if callable(content):
                content(fh)
            else:
                fh.write(content.encode("utf-8") if isinstance(content, str) else content)
            fh.flush()
            os.fsync(fh.fileno())
        _commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_json(path: str | Path, value: Any, **dumps: Any) -> Path:
    """`atomic_write` of ``json.dumps(value, **dumps)`` followed by a newline."""
    return atomic_write(path, json.dumps(value, **dumps) + "\n")


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """For writers that take a file name, not a file object (an ONNX exporter): yields the temporary path to
    write; when the block ends without an exception it is fsynced and renamed over ``path`` like `atomic_write`
    does, otherwise removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = temp_name(path)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        _commit(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _commit(tmp: Path, path: Path) -> None:
    kill_point("temp", path)
    os.replace(tmp, path)
    fsync_folder(path.parent)
    kill_point("done", path)


def kill_point(stage: str, path: Path) -> None:
    """Count one kill point; end the process as SIGKILL would when it is the one ``LEPTON_NB_KILL_AT_WRITE``
    names (a test hook: nothing happens when neither variable is set)."""
    at, log = os.environ.get(KILL_ENV), os.environ.get(WRITE_LOG_ENV)
    if not at and not log:
        return
    _points["n"] += 1
    n = _points["n"]
    if log:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(f"{n}\t{stage}\t{path}\n")
    if at and at.strip().isdigit() and n == int(at):
        os.kill(os.getpid(), signal.SIGKILL)


def fsync_folder(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (a no-op where folders cannot be opened, e.g. Windows)."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: str | Path, pattern: str = TEMP_GLOB, *, recursive: bool = False) -> list[Path]:
    """Delete the temporary files (``.NAME.PID.tmp``) of writers that no longer run; returns them.

    A file whose PID is a live process — this one included, whose other threads may be writing — is kept:
    that writer may be writing it now. ``recursive``: in the sub-folders too (a run folder's
    ``checkpoints/``, a study folder's trial runs).
    """
    removed = []
    for tmp in temp_files(folder, pattern, recursive=recursive):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and pid_alive(int(pid)):
            continue
        with contextlib.suppress(OSError):  # gone meanwhile, or a folder of that name
            tmp.unlink()
            removed.append(tmp)
    return removed


def temp_files(folder: str | Path, pattern: str = TEMP_GLOB, *, recursive: bool = False) -> list[Path]:
    """The temporary files of `atomic_write` in ``folder`` (and its sub-folders when ``recursive``)."""
    root = Path(folder)
    if not root.is_dir():
        return []
    found = root.rglob(pattern) if recursive else root.glob(pattern)
    return sorted(p for p in found if p.is_file())


def pid_alive(pid: int) -> bool:
    """True when a process with this PID exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
