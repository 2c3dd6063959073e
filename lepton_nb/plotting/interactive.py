"""Interactive figures for HTML pages (run report, study report, class gallery) as plotly.js JSON.

Each builder returns a figure as a plain dict (``{"data": [...], "layout": {...}}``) in plotly's own schema:
the page draws it with the plotly.js bundle it embeds (`lepton_nb.plotting.page`). The figures are written
as dicts rather than with ``plotly.graph_objects`` because the studio's worker process writes run reports and
must not load plotly (~30 MB and half a second for its validators); the tests validate every builder's output
with ``plotly.graph_objects.Figure``, so a misspelled property still fails.

Numbers are rounded to 4 significant digits (hover shows them; the page stays small) and non-finite values
become ``null`` (plotly draws a gap: a diverged loss shows where it left the chart).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from .colors import COLORS, PALETTE

#: matplotlib's "Blues" (light for few samples, dark for many); plotly's own "Blues" runs the other way
BLUES = [[0.0, "#f7fbff"], [0.25, "#c6dbef"], [0.5, "#6baed6"], [0.75, "#2171b5"], [1.0, "#08306b"]]
FONT = {"family": "system-ui, -apple-system, Segoe UI, Roboto, sans-serif", "size": 12, "color": "#222"}
Figure = dict[str, Any]


def rounded(values: Iterable[Any], digits: int = 4) -> list[float | None]:
    """Floats rounded to ``digits`` significant digits; NaN/inf/None → None (a gap in the line)."""
    out: list[float | None] = []
    for v in values:
        try:
            f = float(v)
        except (TypeError, ValueError):
            out.append(None)
            continue
        out.append(float(f"{f:.{digits}g}") if math.isfinite(f) else None)
    return out


def layout(title: str = "", xtitle: str = "", ytitle: str = "", height: int = 320, **extra: Any) -> dict[str, Any]:
    """The common layout: small margins, a light grid, the legend above the plot, hover on the x position."""
    base: dict[str, Any] = {
        "height": height, "margin": {"l": 56, "r": 16, "t": 40 if title else 16, "b": 48},
        "font": FONT, "paper_bgcolor": "white", "plot_bgcolor": "white", "hovermode": "x unified",
        "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 1, "xanchor": "right",
                   "font": {"size": 11}},
        "xaxis": {"title": {"text": xtitle}, "gridcolor": "#e5e5e5", "zeroline": False},
        "yaxis": {"title": {"text": ytitle}, "gridcolor": "#e5e5e5", "zeroline": False},
    }
    if title:
        base["title"] = {"text": title, "font": {"size": 13}, "x": 0, "xanchor": "left"}
    for key, value in extra.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            base[key] = {**base[key], **value}
        else:
            base[key] = value
    return base


def line(x: Sequence[Any], y: Sequence[Any], name: str, color: str, *, markers: bool = False, width: float = 1.8,
         opacity: float = 1.0, dash: str = "solid", group: str | None = None, show_legend: bool = True,
         fmt: str = ".4g") -> dict[str, Any]:
    """One scatter line trace with a hover label naming the series."""
    trace: dict[str, Any] = {
        "type": "scatter", "mode": "lines+markers" if markers else "lines", "name": name,
        "x": rounded(x, 6), "y": rounded(y), "line": {"color": color, "width": width, "dash": dash},
        "opacity": opacity, "hovertemplate": f"{_escape(name)}: %{{y:{fmt}}}<extra></extra>",
        "showlegend": show_legend,
    }
    if markers:
        trace["marker"] = {"size": 6}
    if group is not None:
        trace["legendgroup"] = group
    return trace


def _escape(text: str) -> str:
    """Text inside a hover template: plotly reads ``%{...}`` as a placeholder."""
    return str(text).replace("%", "%%").replace("<", "&lt;")


def smooth(y: np.ndarray, window: int) -> np.ndarray:
    """Running mean over ``window`` points (the first value repeated before the start)."""
    if len(y) < window or window < 2:
        return y
    padded = np.concatenate([np.full(window - 1, y[0]), y])
    return np.convolve(padded, np.ones(window) / window, mode="valid")


def change_marks(changes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """Dashed vertical lines (and labels) where settings were changed while paused."""
    shapes = [{"type": "line", "xref": "x", "yref": "paper", "x0": c["step"], "x1": c["step"], "y0": 0, "y1": 1,
               "line": {"color": "#8e24aa", "width": 1, "dash": "dash"}} for c in changes]
    notes = [{"xref": "x", "yref": "paper", "x": c["step"], "y": 1, "yanchor": "bottom", "showarrow": False,
              "text": f"{c['field']}→{c['new']}", "font": {"size": 10, "color": "#8e24aa"}} for c in changes]
    return {"shapes": shapes, "annotations": notes}


def loss_figure(history: Any, changes: Sequence[dict[str, Any]] = (), max_points: int = 1500) -> Figure:
    """Train loss per batch (faded), its running mean, and the per-epoch validation loss, against the step."""
    steps, loss = history.decimated("batch_loss", max_points)
    data = []
    if len(steps):
        data.append(line(steps, loss, "train (batch)", PALETTE["train"], width=0.8, opacity=0.3))
        data.append(line(steps, smooth(loss, max(1, len(loss) // 50)), "train (smoothed)", PALETTE["train"]))
    x, y = history.series("val_loss")
    if len(x):
        data.append(line(x, y, "val", PALETTE["val"], markers=True))
    return {"data": data, "layout": layout("loss (drag to zoom, double-click to reset)", "step", "loss",
                                           **change_marks(changes))}


def metric_figure(history: Any, metric: str, label: str, changes: Sequence[dict[str, Any]] = ()) -> Figure:
    """The metric on the train and validation splits at each epoch end."""
    data = []
    for split in ("train", "val"):
        x, y = history.series(f"{split}_{metric}")
        if len(x):
            data.append(line(x, y, split, PALETTE[split], markers=True))
    return {"data": data, "layout": layout(label, "step", label, **change_marks(changes))}


def lr_figure(history: Any, changes: Sequence[dict[str, Any]] = (), max_points: int = 1500) -> Figure:
    """The learning rate at each step (the schedule as it ran)."""
    x, y = history.decimated("lr", max_points)
    data = [line(x, y, "learning rate", PALETTE["lr"], fmt=".3g")] if len(x) else []
    return {"data": data, "layout": layout("learning rate", "step", "learning rate", showlegend=False,
                                           **change_marks(changes))}


def confusion_figure(confusion: np.ndarray, classes: Sequence[str]) -> Figure:
    """Counts as a heat map (rows: true class, columns: predicted); hover adds the share of the true class."""
    counts = np.asarray(confusion, dtype=float)
    share = counts / np.maximum(counts.sum(1, keepdims=True), 1)
    names = [str(c) for c in classes]
    trace: dict[str, Any] = {
        "type": "heatmap", "z": counts.astype(int).tolist(), "x": names, "y": names,
        "customdata": [rounded(row, 3) for row in share], "colorscale": BLUES, "showscale": False,
        "hovertemplate": "true %{y} → predicted %{x}<br>%{z} samples (%{customdata:.1%} of true %{y})"
                         "<extra></extra>",
    }
    if len(names) <= 20:
        trace["texttemplate"] = "%{z}"
    size = min(640, max(280, 28 * len(names) + 120))
    axis = {"type": "category", "tickangle": -45 if len(names) > 10 else 0, "gridcolor": "rgba(0,0,0,0)"}
    return {"data": [trace], "layout": layout("", "predicted", "true", height=size, hovermode="closest",
                                              xaxis=axis, yaxis={**axis, "tickangle": 0, "autorange": "reversed"},
                                              width=size + 40)}


def per_class_figure(rows: Sequence[dict[str, Any]]) -> Figure:
    """Precision, recall and F1 per class as grouped bars; hover adds the class's support."""
    names = [str(r["class"]) for r in rows]
    support = [int(r.get("support", 0)) for r in rows]
    data = [{"type": "bar", "name": key, "x": names, "y": rounded(r[key] for r in rows), "marker": {"color": color},
             "customdata": support, "hovertemplate": f"{key}: %{{y:.3f}} (%{{customdata}} samples)<extra></extra>"}
            for key, color in (("precision", "#4c72b0"), ("recall", "#dd8452"), ("f1", "#55a868"))]
    return {"data": data, "layout": layout("", "class", "score", barmode="group",
                                           xaxis={"type": "category"}, yaxis={"range": [0, 1.05]})}


DASHES = {"fgsm": "dash", "pgd": "solid", "pgd_l2": "dashdot", "fgsm_rs": "dot", "noise": "dot"}


def robustness_figure(curves: Sequence[Any]) -> Figure:
    """Accuracy against ε: one colour per run, one dash style per attack; click a legend entry to hide it."""
    data = []
    for i, curve in enumerate(curves):
        for method, acc in curve.accuracy.items():
            name = f"{curve.run} · {method}" if len(curves) > 1 else method
            data.append(line(curve.eps, acc, name, COLORS[i % len(COLORS)], markers=True,
                             dash=DASHES.get(method, "solid"), fmt=".1%"))
    unit = curves[0].unit_name if curves else ""
    return {"data": data, "layout": layout("accuracy under attack", f"ε ({unit})", "accuracy",
                                           yaxis={"range": [0, 1.02], "tickformat": ".0%"})}


def overlay_figure(series: Sequence[tuple[str, Sequence[Any], Sequence[Any]]], title: str, xtitle: str,
                   ytitle: str, *, percent: bool = False, highlight: Sequence[bool] = ()) -> Figure:
    """Several runs' curves on one chart (``(label, x, y)`` each): click a legend entry to hide or show a run,
    double-click to show it alone. ``highlight`` draws flagged runs dashed."""
    data = []
    for i, (label, x, y) in enumerate(series):
        flagged = i < len(highlight) and highlight[i]
        data.append(line(x, y, label, COLORS[i % len(COLORS)], markers=len(x) <= 30,
                         dash="dash" if flagged else "solid", fmt=".1%" if percent else ".4g"))
    extra: dict[str, Any] = {"hovermode": "closest"}
    if percent:
        extra["yaxis"] = {"tickformat": ".0%"}
    xs = [v for _, x, _ in series for v in x]
    if xs and all(isinstance(v, int) for v in xs):  # epochs: whole numbers only, at most ~10 ticks
        extra["xaxis"] = {"tick0": 1, "dtick": max(1, math.ceil(max(xs) / 10))}
    return {"data": data, "layout": layout(title, xtitle, ytitle, **extra)}


def bars_figure(labels: Sequence[str], values: Sequence[float], title: str, ytitle: str, *,
                colors: Sequence[str] = (), hover: Sequence[str] = (), percent: bool = False) -> Figure:
    """One bar per label (a leaderboard, importances); ``hover`` adds a line of text per bar."""
    trace: dict[str, Any] = {
        "type": "bar", "x": [str(label) for label in labels], "y": rounded(values),
        "marker": {"color": list(colors) if colors else PALETTE["train"]},
        "hovertemplate": "%{x}: %{y" + (":.1%" if percent else ":.4g") + "}"
                         + ("<br>%{customdata}" if hover else "") + "<extra></extra>",
    }
    if hover:
        trace["customdata"] = [str(h) for h in hover]
    extra: dict[str, Any] = {"hovermode": "closest", "showlegend": False, "xaxis": {"type": "category"}}
    if percent:
        extra["yaxis"] = {"tickformat": ".0%"}
    return {"data": [trace], "layout": layout(title, "", ytitle, **extra)}


def study_history_figure(trials: Any, objective: str, direction: str, best: Sequence[float]) -> Figure:
    """A study's trials: completed values, pruned trials at their last reported value (grey), the best so far."""
    data = []
    for state, color in (("complete", "#4c72b0"), ("pruned", "#bbbbbb")):
        rows = trials[trials.state == state]
        if len(rows):
            y = rows.value if state == "complete" else rows["last"]
            data.append({"type": "scatter", "mode": "markers", "name": state, "x": rounded(rows.trial, 6),
                         "y": rounded(y), "marker": {"color": color, "size": 8},
                         "hovertemplate": f"trial %{{x}} ({state}): %{{y:.4g}}<extra></extra>"})
    done = trials[trials.state == "complete"].sort_values("trial")
    if len(done) and len(best):
        x = [*done.trial.tolist(), int(trials.trial.max())]
        data.append({"type": "scatter", "mode": "lines", "name": "best so far", "x": x,
                     "y": rounded([*best, best[-1]]), "line": {"color": "#dd8452", "shape": "hv", "width": 2},
                     "hovertemplate": "best so far: %{y:.4g}<extra></extra>"})
    return {"data": data, "layout": layout(f"optimization history ({direction} {objective})", "trial", objective,
                                           hovermode="closest")}


__all__ = ["COLORS", "Figure", "bars_figure", "change_marks", "confusion_figure", "layout", "line", "loss_figure",
           "lr_figure", "metric_figure", "overlay_figure", "per_class_figure", "robustness_figure", "rounded",
           "smooth", "study_history_figure"]
