"""The run report's interactive charts, each with its text alternative: curves, confusion, per class, robustness.

The figures come from `lepton_nb.plotting.interactive` (plotly.js JSON; nothing here imports plotly or
matplotlib); `lepton_nb.plotting.page.chart` wraps each with the words a reader gets without the script.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..plotting.interactive import (
    confusion_figure,
    loss_figure,
    lr_figure,
    metric_figure,
    per_class_figure,
    robustness_figure,
)
from ..plotting.page import chart, values_table
from ..recipe.labels import metric_label


def _pct(v: float) -> str:
    return f"{100 * v:.1f} %" if math.isfinite(v) else "not a number"


def _num(v: float) -> str:
    return f"{v:.3g}" if math.isfinite(v) else "not a number (diverged)"


def loss_alt(history: Any) -> str:
    """The loss chart in words: where the train and validation losses started and ended."""
    _, loss = history.series("batch_loss")
    if not len(loss):
        return "Loss: no training step was logged."
    parts = [f"Loss over {len(loss)} training steps: train loss from {_num(loss[0])} to {_num(loss[-1])}"]
    _, val = history.series("val_loss")
    if len(val):
        finite = np.where(np.isfinite(val), val, np.inf)
        best = int(np.argmin(finite))
        parts.append(f"validation loss from {_num(val[0])} to {_num(val[-1])}, lowest {_num(val[best])} after "
                     f"epoch {best + 1} of {len(val)}")
    return "; ".join(parts) + "."


def metric_alt(history: Any, metric: str) -> str:
    """The metric chart in words: the validation metric after the first, the best and the last epoch."""
    _, val = history.series(f"val_{metric}")
    _, train = history.series(f"train_{metric}")
    label = metric_label(f"val_{metric}")
    if not len(val):
        return f"{label}: not measured (no validation split)." if not len(train) else (
            f"{metric_label(f'train_{metric}')} from {_pct(train[0])} to {_pct(train[-1])}; no validation split.")
    finite = np.where(np.isfinite(val), val, -np.inf)
    best = int(np.argmax(finite))
    text = (f"{label.capitalize()} per epoch: {_pct(val[0])} after epoch 1, {_pct(val[-1])} after epoch {len(val)}, "
            f"best {_pct(val[best])} after epoch {best + 1}")
    if len(train):
        text += f"; training {_pct(train[-1])} at the end"
    return text + "."


def lr_alt(history: Any) -> str:
    _, lr = history.series("lr")
    if not len(lr):
        return "Learning rate: not logged."
    peak = int(np.nanargmax(lr)) if np.isfinite(lr).any() else 0
    return (f"Learning rate over {len(lr)} steps: from {lr[0]:.3g} to {lr[-1]:.3g}, highest {lr[peak]:.3g} at step "
            f"{peak + 1}.")


def curves_section(history: Any, metric: str = "accuracy") -> str:
    """Loss (full width: drag to zoom), the metric and the learning rate side by side."""
    changes = history.meta.get("changes", [])
    label = metric_label(metric)
    return (chart(loss_figure(history, changes), loss_alt(history)) + "<div class='lnb-row'>"
            + chart(metric_figure(history, metric, label, changes), metric_alt(history, metric))
            + chart(lr_figure(history, changes), lr_alt(history)) + "</div>")


def confusion_alt(confusion: np.ndarray, classes: Sequence[str]) -> str:
    """The confusion matrix in words: how many were wrong and the most frequent confusion."""
    counts = np.asarray(confusion, dtype=int)
    total, right = int(counts.sum()), int(np.trace(counts))
    text = (f"Confusion matrix of {total} test samples over {len(classes)} classes (rows: true class, columns: "
            f"predicted): {total - right} misclassified")
    off = counts.copy()
    np.fill_diagonal(off, 0)
    if off.any():
        t, p = np.unravel_index(int(np.argmax(off)), off.shape)
        text += f"; the most frequent confusion is true {classes[t]} → predicted {classes[p]} ({off[t, p]} samples)"
    return text + "."


def confusion_section(confusion: np.ndarray, classes: Sequence[str]) -> str:
    """Counts in the cells; hover adds the share of the true class (the recall of that row)."""
    counts = np.asarray(confusion, dtype=int)
    table = values_table(["true \\ predicted", *map(str, classes)],
                         [[str(c), *row] for c, row in zip(classes, counts.tolist())])
    return chart(confusion_figure(counts, classes), confusion_alt(counts, classes), table,
                 caption="hover a cell for its share of the true class (that row's recall)")


def per_class_alt(rows: Sequence[dict[str, Any]]) -> str:
    if not rows:
        return "Per-class scores: none."
    f1 = [float(r["f1"]) for r in rows]
    lo, hi = int(np.argmin(f1)), int(np.argmax(f1))
    return (f"Precision, recall and F1 for {len(rows)} classes: lowest F1 {f1[lo]:.3f} for class {rows[lo]['class']}, "
            f"highest {f1[hi]:.3f} for class {rows[hi]['class']}.")


def per_class_section(rows: Sequence[dict[str, Any]]) -> str:
    return chart(per_class_figure(rows), per_class_alt(rows))


def robustness_alt(curves: Sequence[Any]) -> str:
    parts = []
    for c in curves:
        for method, acc in c.accuracy.items():
            who = f"{c.run} · " if len(curves) > 1 else ""
            parts.append(f"{who}{method}: {_pct(acc[0])} at ε = {c.eps[0]:g}, {_pct(acc[-1])} at ε = {c.eps[-1]:g}")
    return "Accuracy under attack against ε: " + "; ".join(parts) + "."


def robustness_chart(curves: Sequence[Any]) -> str:
    return chart(robustness_figure(curves), robustness_alt(curves))


__all__ = ["confusion_section", "curves_section", "per_class_section", "robustness_chart"]
