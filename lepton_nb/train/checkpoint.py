"""Checkpoints written atomically and loaded with ``weights_only=True`` (no pickled code runs)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError

TEMP_PATTERN = ".*.pt.*.tmp"  # what an interrupted `save_checkpoint` leaves behind


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write to a temporary file in the same folder, fsync it, rename it over the target, fsync the folder.

    A crash, Ctrl-C or kill mid-write leaves the previous checkpoint intact (and at worst a temporary
    file that `remove_stale_temp_files` clears on the next start or resume); after a power loss the
    rename itself is on disk (as Lightning does it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            torch.save(state, fh)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        _fsync_folder(path.parent)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def _fsync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # a platform without folder handles (Windows): the rename is as durable as it gets
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def remove_stale_temp_files(folder: str | Path, pattern: str = TEMP_PATTERN) -> list[Path]:
    """Delete temporary files (``.NAME.PID.tmp``) of writers that no longer run (killed mid-save); returns them."""
    removed = []
    for tmp in Path(folder).glob(pattern):
        pid = tmp.name.rsplit(".", 2)[-2]
        if pid.isdigit() and int(pid) != os.getpid() and _alive(int(pid)):
            continue  # another process is writing it right now
        tmp.unlink(missing_ok=True)
        removed.append(tmp)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint", str(path), "no such file; allowed: a best.pt or last.pt in a run "
                              "folder's checkpoints/")
    try:
        with warnings.catch_warnings():
            # quantized (int8) state dicts go through torch's legacy TypedStorage path on load
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise CheckpointError("checkpoint", str(path), f"cannot be loaded safely ({str(exc)[:300]}); allowed: a "
                              "checkpoint written by lepton_nb") from None
    if not isinstance(state, dict):
        raise CheckpointError("checkpoint", str(path), f"holds a {type(state).__name__}, not a checkpoint; allowed: "
                              "a checkpoint written by lepton_nb (a dict of model weights and training state)")
    return state
