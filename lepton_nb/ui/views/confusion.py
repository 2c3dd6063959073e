"""A clickable confusion matrix (anywidget): ``selected`` is the clicked cell [true, predicted]."""

from __future__ import annotations

import anywidget
import traitlets as t

from ..assets import asset


class ConfusionMatrix(anywidget.AnyWidget):
    """Clickable confusion matrix; ``selected`` is the clicked cell [true, predicted]."""

    _esm = asset("confusion.js")
    _css = asset("confusion.css")
    matrix = t.List().tag(sync=True)
    labels = t.List().tag(sync=True)
    selected = t.List().tag(sync=True)
