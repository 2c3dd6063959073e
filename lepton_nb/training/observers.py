"""Who follows and steers a run from outside its loop: one object instead of three keyword arguments."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from .control import Control
from .history import History


@dataclass
class Observers:
    """The history a run fills, the callbacks it calls (`lepton_nb.training.callbacks`), and the control
    another thread stops, pauses or resumes it with. Each run gets its own (the defaults are fresh)."""

    history: History = field(default_factory=History)
    callbacks: Sequence[Any] = ()
    control: Control = field(default_factory=Control)
