"""Checkpoints written atomically and loaded with ``weights_only=True`` (no pickled code runs)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError
from ..files import atomic_write
from ..models.quantize import torchao


def save_checkpoint(path: str | Path, state: dict[str, Any]) -> Path:
    """Write a checkpoint atomically (`lepton_nb.files.atomic_write`): a crash, Ctrl-C or kill mid-write leaves
    the previous checkpoint intact, and at worst a temporary file that `lepton_nb.files.remove_stale_temp_files`
    clears when the folder is next opened."""
    return atomic_write(path, lambda fh: torch.save(state, fh))


def load_checkpoint(path: str | Path, map_location: str | torch.device = "cpu") -> dict[str, Any]:
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint", str(path), "no such file; allowed: a best.pt or last.pt in a run "
                              "folder's checkpoints/")
    try:
        try:
            state = torch.load(path, map_location=map_location, weights_only=True)
        except Exception as exc:
            if "torchao" not in str(exc):
                raise
            torchao()  # a quantized checkpoint (`lepton_nb.optimize`): torchao's tensor types, allowed on import
            state = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as exc:  # torch raises several types for corrupt or foreign files
        raise CheckpointError("checkpoint", str(path), f"cannot be loaded safely ({str(exc)[:300]}); allowed: a "
                              "checkpoint written by lepton_nb") from None
    if not isinstance(state, dict):
        raise CheckpointError("checkpoint", str(path), f"holds a {type(state).__name__}, not a checkpoint; allowed: "
                              "a checkpoint written by lepton_nb (a dict of model weights and training state)")
    return state
