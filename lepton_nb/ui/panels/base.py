"""What the studio knows of a tab: the `Panel` protocol, and `Tab`, whose defaults a panel overrides.

The studio composes an ordered tuple of panel classes; it never reaches into one. It tells every panel the same
things: ``refresh(recipe, changed)`` when the recipe or the data changed (``changed`` holds the recipe sections
edited, and ``loading``/``loaded``/``failed`` for the data, ``runs`` when a run was listed), ``show_run`` when a
run finished, ``follow(session)`` when a run starts (a panel that shows something live binds to the session's
history and returns what to call on each tick of the live monitor), ``shown`` when its tab was selected, ``wait``,
``stop`` and ``close``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Protocol

import ipywidgets as W

from ...artifacts import Run
from ...recipe import Recipe
from ...workflows import Session
from ..tasks import Latest

EVERYTHING = frozenset({"data", "normalize", "augment", "model", "train", "evaluate", "interpret", "pretrain",
                        "search", "loaded", "runs"})


class Panel(Protocol):
    title: str  # the tab's title
    key: str  # its name in the studio: ``studio.<key>_panel``
    box: W.Widget

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None: ...

    def show_run(self, run: Run, visible: bool = True) -> None: ...

    def follow(self, session: Session) -> Callable[[], None] | None: ...

    def shown(self) -> None: ...

    def wait(self, timeout: float | None = None) -> bool: ...

    def stop(self) -> None: ...

    def close(self, timeout: float = 60.0) -> None: ...


class Tab:
    """A `Panel` that does nothing on each call: a panel overrides what it needs. ``tasks`` lists its background
    tasks (`Latest`): `wait` waits for them, `close` closes them."""

    title = ""
    key = ""

    def tasks(self) -> tuple[Latest, ...]:
        return ()

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None:
        """The recipe (None while it has problems) or the data changed: redraw what depends on ``changed``."""

    def show_run(self, run: Run, visible: bool = True) -> None:
        """A run finished (``visible``: the tab is the one shown, so figures may be drawn now)."""

    def follow(self, session: Session) -> Callable[[], None] | None:
        """A run started in ``session``: what to call on each tick of the live monitor (None: nothing live here)."""
        return None

    def shown(self) -> None:
        """The tab was selected: draw what waited for it."""

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the panel's background tasks have drawn what they were asked to (False on timeout)."""
        return all(task.wait(timeout) for task in self.tasks())

    def stop(self) -> None:
        """Stop the background work the panel started (Stop was pressed, or the studio closes)."""

    def close(self, timeout: float = 60.0) -> None:
        """End the panel's background threads (none is left inside torch when the process exits)."""
        self.stop()
        for task in self.tasks():
            task.close(timeout)
