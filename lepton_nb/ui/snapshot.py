"""The last run's static summary under the studio: what a saved notebook, nbviewer or a PDF shows of it.

Jupyter updates a displayed summary through its display id, and only the page that displayed it knows
that id: after a browser reload (or in a second tab) updates reach nothing, and the saved notebook would
keep the previous run's summary. The monitor's views say which page they are in, so the studio knows
when no summary of the current page can be updated, says so, and ``studio.snapshot()`` shows the summary
in a new cell of the current page (later runs update it too). In a Voilà dashboard the summary is a
widget instead: Voilà draws no display updates after the page has executed, a widget's value it does.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import ipywidgets as W
from IPython.display import HTML, display

PLACEHOLDER = "<div class='lnb-snapshot'></div>"
# Under the studio, for a notebook opened later without the kernel that drew it: JupyterLab then shows "Error
# displaying widget: model not found" where the studio was. The note says that is harmless; while a studio is
# live, the stylesheet its monitor brings (studio.css) hides it, so only a page without a live studio shows it.
REOPENED_NOTE = ("<div class='lnb-reopened-note' style='font-size:12px;color:var(--jp-ui-font-color2,#555)'>"
                 "If “Error displaying widget: model not found” shows above, this notebook was opened after the "
                 "kernel that drew the studio stopped: that is harmless, nothing is lost. Run this cell again for a "
                 "live studio. The summary below shows the last run as it was when the notebook was saved.</div>")
STALE_NOTE = ("the page was reloaded, and Jupyter forgets on a reload where the summary under the studio is: "
              "it still shows the previous run. Run studio.snapshot() in a new cell to put this run's summary "
              "in the notebook.")
RELOAD_NOTE = ("the page was reloaded after the summary of {name} was written, and the reloaded page shows the "
               "summary as the notebook was last saved: if it does not show {name}, run studio.snapshot() in a new "
               "cell to put it in the notebook.")


def stale_message(run: Any) -> str:
    """The monitor's message when a reload left the summary under the studio showing an earlier run."""
    return f"{run.status} · {STALE_NOTE}"


def reload_message(run: Any) -> str:
    """The monitor's message when a page loaded after ``run``'s summary was written."""
    return f"{run.status} · {RELOAD_NOTE.format(name=run.name)}"


@dataclass
class _Shown:
    handle: Any
    page: int  # index of the page (in the monitor's pages) this summary was displayed in


class Snapshot:
    """Displays the summary (as updatable outputs, or a widget in a dashboard) and keeps every copy current."""

    def __init__(self) -> None:
        self.html = ""
        self._shown: list[_Shown] = []
        self.widget: W.HTML | None = None
        self.redrawn = False  # True in marimo: every page draws the studio as it is now, nothing goes stale

    def show(self, pages: int, dashboard: bool = False) -> None:
        """Display the summary where the call's output goes; ``pages``: how many pages the monitor has seen."""
        if dashboard:
            self.widget = self.widget or W.HTML(self.html or PLACEHOLDER)
            display(self.widget)
            return
        # a summary displayed before the monitor's first view said hello belongs to that first page
        self._shown.append(_Shown(display(HTML(self.html or PLACEHOLDER), display_id=True), max(pages - 1, 0)))

    def update(self, html: str, pages: int) -> bool:
        """Show ``html`` everywhere; False when none of the summaries is in the current (latest) page."""
        self.html = html
        for shown in self._shown:
            shown.handle.update(HTML(html))
        if self.widget is not None:
            self.widget.value = html
        return self.in_page(pages)

    def in_page(self, pages: int) -> bool:
        """The current (latest) page shows a summary this object keeps up to date."""
        return self.redrawn or self.widget is not None or pages <= 1 or any(s.page == pages - 1 for s in self._shown)
