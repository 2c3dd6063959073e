"""Files written so that a crash never leaves half of one: the one atomic write of the package.

Every file a run, a search or a class writes goes through `atomic_write`: the bytes go to a temporary file
``.NAME.PID.tmp`` in the same folder, are flushed and fsynced, the temporary file is renamed over the target
and the folder is fsynced (as Lightning writes checkpoints). A reader therefore sees the previous file or the
new one, never a mix; after a power loss the rename itself is on disk. A writer killed mid-write leaves only
its temporary file, which `remove_stale_temp_files` deletes when the folder is next opened — never the file
of a writer that is still alive (its PID is in the name). Standard library only: the bottom layer.
"""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

TEMP_GLOB = ".*.tmp"  # what an interrupted `atomic_write` leaves behind


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
        os.replace(tmp, path)
        fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def atomic_write_json(path: str | Path, value: Any, **dumps: Any) -> Path:
    """`atomic_write` of ``json.dumps(value, **dumps)`` followed by a newline."""
    return atomic_write(path, json.dumps(value, **dumps) + "\n")


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


def remove_stale_temp_files(folder: str | Path, pattern: str = TEMP_GLOB) -> list[Path]:
    """Delete the temporary files (``.NAME.PID.tmp``) of writers that no longer run; returns them.

    A file whose PID is a live process other than this one is kept: that writer may be writing it now.
    """
    removed = []
    for tmp in Path(folder).glob(pattern):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and pid_alive(int(pid)):
            continue
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def pid_alive(pid: int) -> bool:
    """True when a process with this PID exists (ours or another user's)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
