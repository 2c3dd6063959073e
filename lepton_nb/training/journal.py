"""A History that journals its writes, so a copy in another process can follow it.

A run trained in the studio's training process writes its metrics into a `JournalHistory`; the process sends the
journal with the events, and the notebook's own `History` replays it (`replay`) before the events reach
the views. Views therefore read a local History, exactly as when training runs in a thread.
"""

from __future__ import annotations

import copy
from typing import Any

from .history import History

Op = tuple[Any, ...]  # (method name, *arguments)


class JournalHistory(History):
    """Every write is applied here and also appended to ``journal`` (taken with `take`)."""

    def __init__(self) -> None:
        super().__init__()
        self.journal: list[Op] = []
        self._sent_meta: dict[str, Any] = {}

    def log(self, name: str, x: float, y: float) -> None:
        super().log(name, x, y)
        self.journal.append(("log", name, x, y))

    def log_many(self, x: float, values: dict[str, float]) -> None:
        super().log_many(x, values)
        self.journal.append(("log_many", x, dict(values)))

    def log_epoch(self, record: dict[str, float]) -> None:
        super().log_epoch(record)
        self.journal.append(("log_epoch", dict(record)))

    def add_artifact(self, name: str, item: Any) -> None:
        super().add_artifact(name, item)
        self.journal.append(("add_artifact", name, item))

    def truncate_epochs(self, epochs_done: int) -> None:
        super().truncate_epochs(epochs_done)
        self.journal.append(("truncate_epochs", epochs_done))

    def restore(self, data: dict[str, Any], epochs_done: int) -> None:
        super().restore(data, epochs_done)
        self.journal.append(("restore", data, epochs_done))

    def take(self, with_meta: bool = True) -> list[Op]:
        """The writes since the last call (and the metadata when it changed), once.

        Called from the thread that writes (the training loop), so nothing is appended meanwhile.
        """
        ops, self.journal = self.journal, []
        if with_meta and self.meta != self._sent_meta:
            self._sent_meta = copy.deepcopy(self.meta)
            ops.append(("set_meta", self._sent_meta))
        return ops


def replay(history: History, ops: list[Op]) -> None:
    """Apply journalled writes to ``history`` in order."""
    for name, *args in ops:
        if name == "set_meta":
            history.meta = copy.deepcopy(args[0])
        else:
            getattr(history, name)(*args)
