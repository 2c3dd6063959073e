"""Checkpoints written atomically and loaded with ``weights_only=True`` (no pickled code runs)."""

from __future__ import annotations

import os
import warnings
from pathlib import Path
from typing import Any

import torch

from ..errors import LeptonError


class CheckpointError(LeptonError):
    """A checkpoint that cannot be read."""


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
        raise CheckpointError(f"checkpoint: {str(path)!r} — no such file; allowed: a best.pt or last.pt "
                              "in a run folder's checkpoints/")
    try:
        with warnings.catch_warnings():
            # quantized (int8) state dicts go through torch's legacy TypedStorage path on load
            warnings.filterwarnings("ignore", message="TypedStorage is deprecated")
            return torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise CheckpointError(f"checkpoint: {str(path)!r} — cannot be loaded safely ({exc}); allowed: "
                              "a checkpoint written by lepton_nb") from None


CHECKPOINT_CHOICES = ("auto", "best", "last")


def run_checkpoint(source: str | Path, which: str = "auto", field: str = "checkpoint") -> Path:
    """The checkpoint file a run folder (or a checkpoint path) stands for.

    ``which``: ``auto`` — the weights the run ended with and its test metrics were measured on
    (``best.pt`` when it early-stopped or diverged, ``last.pt`` otherwise); ``best``; ``last``; or a
    file path, absolute or relative to the run folder (e.g. ``optimized/pruned-50.pt``).
    ``field`` names the argument in error messages.
    """
    path = Path(source).expanduser()
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(f"{field}: {str(path)!r} — no such run folder or checkpoint file; allowed: a run "
                              "folder written by lepton_nb (with checkpoints/) or a .pt checkpoint")
    folder = path / "checkpoints"
    if which not in CHECKPOINT_CHOICES:
        candidate = Path(which).expanduser()
        candidate = candidate if candidate.is_absolute() else path / candidate
        if not candidate.is_file():
            raise CheckpointError(f"checkpoint: {which!r} — no such file in {str(path)!r}; allowed: "
                                  f"{', '.join(CHECKPOINT_CHOICES)} or a checkpoint file")
        return candidate
    best, last = folder / "best.pt", folder / "last.pt"
    if not best.is_file() and not last.is_file():
        raise CheckpointError(f"{field}: {str(path)!r} — this run folder has no checkpoints (it was trained with "
                              "train.checkpoint false, or stopped before its first epoch ended); allowed: a run "
                              "folder with checkpoints/best.pt or checkpoints/last.pt")
    if which == "auto":
        status = _run_status(path)
        prefer = (best, last) if status in ("early_stopped", "diverged") else (last, best)
        return next(p for p in prefer if p.is_file())
    chosen = best if which == "best" else last
    if not chosen.is_file():
        raise CheckpointError(f"checkpoint: {which!r} — {chosen} does not exist; allowed: "
                              f"{'last' if which == 'best' else 'best'} or auto")
    return chosen


def _run_status(run_dir: Path) -> str:
    import json

    try:
        return str(json.loads((run_dir / "metrics.json").read_text(encoding="utf-8")).get("status", ""))
    except (OSError, ValueError):
        return ""
