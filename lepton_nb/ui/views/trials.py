"""Live view of a search: every trial (running ones with their epoch and last value) and the best so far.

Fed by the search panel's poll thread a few times per second from the study's database, so trials of
other worker processes sharing the study show up too (Optuna's dashboard shows no running trials).
The best-so-far figure is redrawn only when a trial finishes.
"""

from __future__ import annotations

import html
import threading
from typing import Any

import ipywidgets as W
import pandas as pd

from ...plotting import new_figure, to_png
from ..access import Picture
from ..render import BAD, MUTED, OK, fmt, set_png

STATE_STYLE = {"running": f"color:{OK};font-weight:600", "complete": "", "pruned": MUTED, "fail": f"color:{BAD}",
               "stopped": MUTED, "waiting": MUTED}
STATE_HELP = {"running": "training now", "complete": "trained to the end; its value counts",
              "pruned": "stopped early by the pruner: worse than earlier trials at the same epoch",
              "fail": "no value: its recipe failed, it diverged, or its process died (see the note)",
              "stopped": "stopped by you (Stop); the study goes on from here with Start", "waiting": "queued"}
MAX_ROWS = 60  # the newest trials; the report and Study.trials keep them all


def _title(text: str) -> str:
    return f' title="{html.escape(text, quote=True)}"' if text else ""


class TrialsView:
    """A trials table and a best-so-far figure; `show` may be called from any thread."""

    def __init__(self) -> None:
        self.summary = W.HTML(f"<p style='{MUTED}'>No search yet.</p>")
        self.table = W.HTML()
        self.curve = Picture(format="png", layout=W.Layout(display="none"))
        self.box = W.VBox([self.summary, self.curve, self.table])
        self._lock = threading.Lock()
        self._finished = -1
        self.rows: list[dict] = []

    def reset(self) -> None:
        with self._lock:
            self._finished = -1

    def show(self, trials: pd.DataFrame, objective: str, direction: str, params: list[str]) -> None:
        """Render the trials table; redraw the curve when the number of finished trials changed."""
        with self._lock:
            counts = trials.state.value_counts().to_dict() if len(trials) else {}
            done = trials[trials.state == "complete"]
            best = (done.value.max() if direction == "maximize" else done.value.min()) if len(done) else None
            self.summary.value = (f"<p><b>{len(trials)}</b> trials · " + " · ".join(
                f"{n} {html.escape(str(s))}" for s, n in sorted(counts.items())) +
                (f" · best {html.escape(objective)} <b>{best:.4f}</b>" if best is not None else "") + "</p>")
            self.rows = [self._row(r, params) for _, r in trials.tail(MAX_ROWS).iloc[::-1].iterrows()]
            self.table.value = self._table_html(self.rows, objective, params)
            finished = int(trials.state.isin(["complete", "pruned", "fail", "stopped"]).sum()) if len(trials) else 0
            if finished != self._finished:
                from ...search.plots import plot_history  # loads Optuna with the search package: on first use

                self._finished = finished
                fig = new_figure(6, 2.6)
                plot_history(fig.subplots(), trials, objective, direction)
                set_png(self.curve, to_png(fig), f"{objective} of each of the {finished} finished trials and the "
                        f"best so far" + (f" ({best:.4f})" if best is not None else "")
                        + "; the table below lists every trial")

    def show_importances(self, study: Any) -> None:
        """The finished search: its history beside the fields' importances (the method named in the title)."""
        with self._lock:
            fig = new_figure(10, 2.6)
            ax1, ax2 = fig.subplots(1, 2)
            study.plot_history(ax1)
            study.plot_importances(ax2)
            set_png(self.curve, to_png(fig), "optimization history of the finished search beside the importance of "
                    "each searched field (fANOVA); the table below lists every trial")

    @staticmethod
    def _row(r: pd.Series, params: list[str]) -> dict:
        value = r["value"] if pd.notna(r["value"]) else None
        last = r["last"] if pd.notna(r["last"]) else None
        row = {"trial": int(r["trial"]), "state": r["state"],
               "epoch": "" if pd.isna(r["epoch"]) else int(r["epoch"]), "current": last, "value": value}
        row.update({p: r[p] for p in params})
        row["seconds"] = None if pd.isna(r["duration_s"]) else round(float(r["duration_s"]), 1)
        row["message"] = r["message"]
        return row

    @staticmethod
    def _table_html(rows: list[dict], objective: str, params: list[str]) -> str:
        if not rows:
            return ""
        cell = "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0);text-align:right"
        heads = ["trial", "state", "epoch", f"{objective} now", f"{objective} (trial)", *params, "seconds", "note"]
        head = "".join(f"<th style='{cell}'>{html.escape(h)}</th>" for h in heads)
        body = []
        for r in rows:
            values = [r["trial"], r["state"], r["epoch"], r["current"], r["value"], *(r[p] for p in params),
                      r["seconds"], r["message"]]
            tds = "".join(f"<td style='{cell};{STATE_STYLE.get(r['state'], '') if i == 1 else ''}'"
                          f"{_title(STATE_HELP.get(r['state'], '')) if i == 1 else ''}>"
                          f"{html.escape(fmt(v) if not isinstance(v, float) or v == v else '')}</td>"
                          for i, v in enumerate(values))
            body.append(f"<tr class='lnb-trial lnb-trial-{html.escape(r['state'])}'>{tds}</tr>")
        return (f"<table class='lnb-trials' style='border-collapse:collapse;font-size:12px'><tr>{head}</tr>"
                f"{''.join(body)}</table>")
