"""Whether ▶ Start can train now, and why not: the recipe's problems, or data that did not load.

A run started on data that cannot load would only fail (a run listed as an error, named after the data shown
before); Start is refused with the reason instead, on hover and in the monitor.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ..errors import Problem


def start_blocker(problems: Sequence[Problem], data_error: BaseException | None) -> str:
    """Why Start cannot train the panels' recipe ('' when it can)."""
    if problems:
        return "; ".join(str(p) for p in problems[:3])
    if data_error is not None:
        return f"the data did not load: {str(data_error) or type(data_error).__name__}"
    return ""


def show_readiness(monitor: Any, problems: Sequence[Problem], data_error: BaseException | None,
                   reloaded: bool = False) -> None:
    """Enable Start or say why not (hover). ``reloaded``: the data has just loaded, no run is active: a refusal
    or a failed run's error left in the monitor speaks of data that is no longer the panels', so it goes."""
    reason = start_blocker(problems, data_error)
    with monitor.hold_sync():
        monitor.can_start, monitor.start_hint = not reason, f"fix first: {reason}" if reason else ""
        if reloaded and data_error is None and (monitor.state == "error" or monitor.message.startswith(REFUSED)):
            monitor.state, monitor.message = "idle", "the data has loaded: ▶ Start trains the recipe"


REFUSED = "cannot start: "
