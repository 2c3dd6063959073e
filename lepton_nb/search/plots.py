"""Figures of a study drawn on a given matplotlib axis or figure (never pyplot, never show()).

Optuna's own ``optuna.visualization.matplotlib`` draws on pyplot's global figure, which is not safe off
the main thread (the studio draws from a background thread) and cannot draw on a given axis; these take
the study's trials table instead.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

STATE_COLORS = {"complete": "#4c72b0", "pruned": "#bbbbbb", "fail": "#c44e52", "stopped": "#8c8c8c",
                "running": "#55a868"}


def best_so_far(values: np.ndarray, direction: str) -> np.ndarray:
    """The running best of a series (NaN before the first finite value)."""
    out = np.full(len(values), np.nan)
    best = np.nan
    for i, v in enumerate(values):
        if np.isfinite(v) and (np.isnan(best) or (v > best if direction == "maximize" else v < best)):
            best = v
        out[i] = best
    return out


def plot_history(ax: Any, trials: pd.DataFrame, objective: str, direction: str) -> None:
    """Completed trials' values (pruned ones faded, at their last reported value) and the best so far."""
    ax.set_xlabel("trial")
    ax.set_ylabel(objective)
    ax.set_title("optimization history", fontsize=9)
    ax.grid(alpha=0.3)
    if trials.empty:
        return
    for state in ("complete", "pruned"):
        rows = trials[trials.state == state]
        y = rows.value if state == "complete" else rows["last"]
        if len(rows):
            ax.scatter(rows.trial, y.astype(float), s=14, color=STATE_COLORS[state], label=state, zorder=3)
    done = trials[trials.state == "complete"].sort_values("trial")
    if len(done):
        best = best_so_far(done.value.to_numpy(float), direction)
        x = np.append(done.trial.to_numpy(), trials.trial.max())  # carried on to the latest trial
        ax.step(x, np.append(best, best[-1]), where="post", color="#dd8452", lw=1.5, label="best so far")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)


def _scaled(values: pd.Series, log: bool) -> tuple[np.ndarray, list[str], list[float]]:
    """Values mapped to [0, 1] (categories by position), with tick labels."""
    if values.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all():
        x = values.to_numpy(float)
        x = np.log10(x) if log else x
        lo, hi = float(np.min(x)), float(np.max(x))
        span = hi - lo or 1.0
        ticks = [lo, hi]
        labels = [f"{10 ** t:.3g}" if log else f"{t:.3g}" for t in ticks]
        return (x - lo) / span, labels, [0.0, 1.0]
    cats = sorted({str(v) for v in values})
    pos = {c: i / max(1, len(cats) - 1) for i, c in enumerate(cats)}
    return np.array([pos[str(v)] for v in values]), cats, [pos[c] for c in cats]


def plot_parallel(ax: Any, trials: pd.DataFrame, params: list[str], objective: str, log: set[str]) -> None:
    """One line per completed trial through every searched field, coloured by the objective."""
    from matplotlib import colormaps, colors

    ax.set_title("parallel coordinates (completed trials)", fontsize=9)
    done = trials[trials.state == "complete"]
    if done.empty or not params:
        ax.set_axis_off()
        return
    columns = [*params, "value"]
    scaled = {}
    for i, p in enumerate(columns):
        y, labels, ticks = _scaled(done[p], p in log)
        scaled[p] = y
        for label, tick in zip(labels, ticks):
            ax.annotate(label, (i, tick), fontsize=7, xytext=(3, 0), textcoords="offset points", va="center")
    values = done.value.to_numpy(float)
    norm = colors.Normalize(float(values.min()), float(values.max()) if values.max() > values.min() else
                            float(values.min()) + 1e-9)
    cmap = colormaps["viridis"]
    for row in range(len(done)):
        ax.plot(range(len(columns)), [scaled[p][row] for p in columns], color=cmap(norm(values[row])), alpha=0.8,
                lw=1.2)
    ax.set_xticks(range(len(columns)), [*params, objective], fontsize=7, rotation=15)
    ax.set_yticks([])
    for i in range(len(columns)):
        ax.axvline(i, color="#999", lw=0.6)


def plot_slices(fig: Any, trials: pd.DataFrame, params: list[str], objective: str, log: set[str]) -> None:
    """The objective of completed trials against each searched field (log axes for log distributions)."""
    done = trials[trials.state == "complete"]
    if not params:
        return
    axes = np.atleast_1d(fig.subplots(1, len(params), sharey=True, squeeze=False)[0])
    for ax, p in zip(axes, params):
        ax.set_xlabel(p, fontsize=8)
        ax.grid(alpha=0.3)
        if done.empty:
            continue
        x = done[p]
        numeric = x.map(lambda v: isinstance(v, (int, float)) and not isinstance(v, bool)).all()
        xs = x.to_numpy(float) if numeric else x.astype(str).to_numpy()
        ax.scatter(xs, done.value.to_numpy(float), c=done.trial.to_numpy(), cmap="Blues", s=16, edgecolor="#333",
                   lw=0.3)
        if numeric and p in log:
            ax.set_xscale("log")
    axes[0].set_ylabel(objective)


def plot_importances(ax: Any, importances: dict[str, float], method: str = "fANOVA") -> None:
    """Horizontal bars of each field's importance (by ``method``, named in the title), largest on top."""
    ax.set_title(f"parameter importances ({method})", fontsize=9)
    if not importances:
        ax.text(0.5, 0.5, "needs two completed trials with different values", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)
        ax.set_axis_off()
        return
    items = sorted(importances.items(), key=lambda kv: kv[1])
    ax.barh([k for k, _ in items], [v for _, v in items], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.grid(alpha=0.3, axis="x")
