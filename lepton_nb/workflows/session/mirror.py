"""What views read of a running trainer (`RunView`), and the kernel's mirror of a trainer in the training process.

The kernel keeps everything the views read: a `History` that replays the process's journalled writes before
each event is delivered (`lepton_nb.training.journal`), and a `RunMirror` (settings after mid-run changes,
position, run folder, data, event bus) standing in for the trainer of a thread session.
"""

from __future__ import annotations

from collections.abc import Sized
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ...data import DataBundle
from ...recipe import TrainSection
from ...training.events import EventBus
from .protocol import RunState


class RunView(Protocol):
    """A running trainer as views and mid-run edits read it: a `Trainer`, or a `RunMirror` of one."""

    cfg: TrainSection
    epoch: int
    global_step: int
    events: EventBus

    @property
    def data(self) -> DataBundle | None: ...

    @property
    def train_batches(self) -> Sized: ...

    @property
    def store(self) -> Any:
        """Where the run writes (with a ``path``), or None."""
        ...


@dataclass
class FolderRef:
    path: Path


@dataclass
class RunMirror:
    """The kernel's view of the trainer in the training process."""

    cfg: TrainSection
    data: DataBundle | None
    epoch: int = 0
    global_step: int = 0
    steps_per_epoch: int = 0
    folder: Path | None = None
    events: EventBus = field(default_factory=EventBus)

    @property
    def train_batches(self) -> range:
        return range(self.steps_per_epoch)

    @property
    def store(self) -> FolderRef | None:
        return None if self.folder is None else FolderRef(self.folder)

    def update(self, state: RunState | None) -> None:
        if state is not None:
            self.cfg, self.epoch, self.global_step = state.cfg, state.epoch, state.global_step
            self.steps_per_epoch, self.folder = state.steps_per_epoch, state.folder
