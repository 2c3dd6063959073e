"""Where a Trainer keeps what it writes: the protocol a run folder implements for it.

The Trainer knows no file names; `lepton_nb.artifacts.RunFolder` decides where checkpoints and the
history live (it is the only code that reads or writes a run folder).
"""

from __future__ import annotations

from typing import Any, Protocol

import torch

from .history import History


class RunStore(Protocol):
    """Checkpoints ("last", "best") and the history of one run."""

    def save_checkpoint(self, which: str, state: dict[str, Any]) -> None: ...

    def load_checkpoint(self, which: str, device: torch.device | str = "cpu") -> dict[str, Any] | None:
        """The checkpoint, or None when the run has none of that name."""
        ...

    def save_history(self, history: History) -> None: ...
