"""Checkpoints written atomically and loaded with ``weights_only=True`` (no pickled code runs)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write to a temporary file in the same folder, fsync, then rename over the target.

    A crash or Ctrl-C mid-write leaves the previous checkpoint intact.
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
    finally:
        tmp.unlink(missing_ok=True)
    return path


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint", str(path), "no such file; allowed: a best.pt or last.pt in a run "
                              "folder's checkpoints/")
    try:
        with warnings.catch_warnings():
            # quantized (int8) state dicts go through torch's legacy TypedStorage path on load
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise CheckpointError("checkpoint", str(path), f"cannot be loaded safely ({exc}); allowed: a checkpoint "
                              "written by lepton_nb") from None
