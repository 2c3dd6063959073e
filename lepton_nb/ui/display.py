"""How a studio shows itself where notebooks run: Jupyter and Voilà draw its widgets, marimo the same widgets
through one anywidget (marimo draws anywidgets only; see bridge.py)."""

from __future__ import annotations

from typing import Any

from IPython.display import HTML, display

from .assets import in_dashboard
from .snapshot import REOPENED_NOTE, Snapshot, reload_message, stale_message


class StudioDisplay:
    """Mixed into `Studio`: its display in Jupyter and Voilà (widgets, then the run's summary) and in marimo."""

    widget: Any
    monitor: Any
    session: Any
    snapshots: Snapshot
    runs: list[Any]
    _bridge: Any = None

    def _ipython_display_(self) -> None:
        self.session.warm_up()  # imports torch's one-off parts where the runs train, while the user reads
        display(self.widget)
        if not in_dashboard():  # what a notebook reopened without this kernel says under the studio
            display(HTML(REOPENED_NOTE))
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

    def _new_page(self, pages: int) -> None:
        """A reloaded page shows the summary as the notebook was last saved. If a run's summary was written
        before the page loaded, only the user can see whether the saved one shows it: say what to check."""
        run = self.runs[-1] if self.runs else None
        if run is None or not self.snapshots.html or self.snapshots.in_page(pages) or self.session.busy:
            return  # nothing written yet, a summary the kernel keeps current, or a run whose end will say it
        self.monitor.message = reload_message(run)

    def snapshot(self) -> None:
        """Show the last run's summary in this cell; later runs update it. After a page reload the summary
        under the studio can no longer be updated (the monitor says so): this puts it in the notebook."""
        self.snapshots.show(len(self.monitor.pages))
        run = self.runs[-1] if self.runs else None
        if run is not None and self.monitor.message in (stale_message(run), reload_message(run)):
            self.monitor.message = run.status  # done: the note no longer applies
