"""How a studio shows itself where notebooks run: Jupyter and Voilà draw its widgets, marimo its live monitor.

marimo renders anywidgets but not ipywidgets, and the studio's forms and panels are ipywidgets: there the
studio shows the live monitor (an anywidget: Start, Pause, Stop, the live curves) with a note saying what is
not shown and how code reaches it, instead of an object's bare repr.
"""

from __future__ import annotations

from typing import Any

from IPython.display import display

from .assets import in_dashboard
from .snapshot import Snapshot

MARIMO_NOTE = ("**lepton_nb studio in marimo** — marimo draws anywidgets, not ipywidgets: shown here is the live "
               "monitor (▶ Start, Pause, Stop, live curves). The panels need Jupyter (JupyterLab, Notebook 7, "
               "Voilà); from code: `studio.update({'train.lr': 0.01})`, `studio.recipe`, `studio.run`, "
               "`studio.find_lr()`, `studio.cross_validate()`, and `lnb.train(recipe)` for scripts.")


class StudioDisplay:
    """Mixed into `Studio`: its display in Jupyter and Voilà (widgets, then the run's summary) and in marimo."""

    widget: Any
    monitor: Any
    session: Any
    snapshots: Snapshot

    def _ipython_display_(self) -> None:
        self.session.warm_up()  # imports torch's one-off parts where the runs train, while the user reads
        display(self.widget)
        self.snapshots.show(len(self.monitor.pages), in_dashboard())  # the run's summary goes there

    def _display_(self) -> Any:
        """marimo's display hook: the live monitor and what marimo cannot show."""
        import marimo as mo

        self.session.warm_up()
        return mo.vstack([mo.ui.anywidget(self.monitor), mo.md(MARIMO_NOTE)])

    def snapshot(self) -> None:
        """Show the last run's summary in this cell; later runs update it. After a page reload the summary
        under the studio can no longer be updated (the monitor says so): this puts it in the notebook."""
        self.snapshots.show(len(self.monitor.pages))
