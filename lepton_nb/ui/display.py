"""How a studio shows itself where notebooks run: Jupyter and Voilà draw its widgets, marimo the same widgets
through one anywidget (marimo draws anywidgets only; see bridge.py)."""

from __future__ import annotations

from typing import Any

from IPython.display import display

from .assets import in_dashboard
from .snapshot import Snapshot


class StudioDisplay:
    """Mixed into `Studio`: its display in Jupyter and Voilà (widgets, then the run's summary) and in marimo."""

    widget: Any
    monitor: Any
    session: Any
    snapshots: Snapshot
    _bridge: Any = None

    def _ipython_display_(self) -> None:
        self.session.warm_up()  # imports torch's one-off parts where the runs train, while the user reads
        display(self.widget)
        self.snapshots.show(len(self.monitor.pages), in_dashboard())  # the run's summary goes there

    def _display_(self) -> Any:
        """marimo's display hook: the whole studio, its widgets carried by one anywidget. A saved marimo
        notebook keeps no cell outputs, so there is no summary to keep up to date under it."""
        import marimo as mo

        from .bridge import StudioBridge

        self.session.warm_up()
        self.snapshots.redrawn = True  # a reloaded page is drawn from the widgets as they are now: no stale note
        if self._bridge is None:  # one bridge per studio: it owns the comms of the studio's widgets
            self._bridge = StudioBridge(self.widget)
        return mo.ui.anywidget(self._bridge)

    def snapshot(self) -> None:
        """Show the last run's summary in this cell; later runs update it. After a page reload the summary
        under the studio can no longer be updated (the monitor says so): this puts it in the notebook."""
        self.snapshots.show(len(self.monitor.pages))
