"""How a studio shows itself where notebooks run: Jupyter and Voilà draw its widgets, marimo the same widgets
through one anywidget (marimo draws anywidgets only; see bridge.py)."""

from __future__ import annotations

from typing import Any

from IPython.display import HTML, display

from .assets import in_dashboard
from .snapshot import REOPENED_NOTE, reload_message, stale_message


class StudioDisplay:
    """A studio's display in Jupyter and Voilà (widgets, then the run's summary) and in marimo."""

    def __init__(self, studio: Any):
        self.studio = studio

    def jupyter(self) -> None:
        s = self.studio
        s.session.warm_up()  # imports torch's one-off parts where the runs train, while the user reads
        display(s.widget)
        if not in_dashboard():  # what a notebook reopened without this kernel says under the studio
            display(HTML(REOPENED_NOTE))
        s.snapshots.show(len(s.monitor.pages), in_dashboard())  # the run's summary goes there

    def marimo(self) -> Any:
        """marimo's display hook: the whole studio, its widgets carried by one anywidget. A saved marimo
        notebook keeps no cell outputs, so there is no summary to keep up to date under it."""
        import marimo as mo

        from .bridge import StudioBridge

        s = self.studio
        s.session.warm_up()
        s.snapshots.redrawn = True  # a reloaded page is drawn from the widgets as they are now: no stale note
        if s.__dict__.get("_bridge") is None:  # one bridge per studio: it owns the comms of the studio's widgets
            s._bridge = StudioBridge(s.widget)
        return mo.ui.anywidget(s._bridge)

    def new_page(self, pages: int) -> None:
        """A reloaded page shows the summary as the notebook was last saved. If a run's summary was written
        before the page loaded, only the user can see whether the saved one shows it: say what to check."""
        s = self.studio
        run = s.runs[-1] if s.runs else None
        if run is None or not s.snapshots.html or s.snapshots.in_page(pages) or s.session.busy:
            return  # nothing written yet, a summary the kernel keeps current, or a run whose end will say it
        s.monitor.message = reload_message(run)

    def snapshot(self) -> None:
        """Show the last run's summary in this cell; later runs update it. After a page reload the summary
        under the studio can no longer be updated (the monitor says so): this puts it in the notebook."""
        s = self.studio
        s.snapshots.show(len(s.monitor.pages))
        run = s.runs[-1] if s.runs else None
        if run is not None and s.monitor.message in (stale_message(run), reload_message(run)):
            s.monitor.message = run.status  # done: the note no longer applies
