"""What a runner sees of the session it runs for (`Host`): the history and control of the run, and where to
report what happened. `Session` implements it; runners depend on this protocol, not on the session's module."""

from __future__ import annotations

from typing import Protocol

from ...artifacts import Run
from ...training.control import Control
from ...training.history import History
from .mirror import RunView


class Host(Protocol):
    history: History  # the run's history, as the caller's views read it
    control: Control  # what the caller stops, pauses and resumes the run with
    progress: bool  # a progress bar for runs in this process
    run: Run | None

    @property
    def busy(self) -> bool: ...

    def attach(self, view: RunView) -> None:
        """The run's trainer (or its mirror) exists."""
        ...

    def finish(self, run: Run) -> None:
        """The run ended and is the caller's."""
        ...

    def fail(self, error: BaseException, tb: str, message: str | None = None) -> None:
        """The run failed (``tb``: where; ``message``: in words)."""
        ...

    def ended(self) -> None:
        """Everything the run reports has arrived."""
        ...
