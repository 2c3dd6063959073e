"""Choosing test samples to look at: typed indices, the Evaluation tab's confusion cell, or the probe set.

Shared by the tabs that explain or attack chosen samples, so every tab picks samples the same way.
"""

from __future__ import annotations

from collections.abc import Callable

import ipywidgets as W
import numpy as np

from ...artifacts import Run
from ...evaluation import EvalResult
from ..access import labelled


def first_cell(ev: EvalResult) -> tuple[int, int]:
    """The cell to look at first: the off-diagonal cell with the most samples (what a teacher would look at);
    when no test sample is misclassified, the diagonal cell of the sample the model was least sure of (its
    highest loss), so a selected cell always holds samples."""
    off = ev.confusion.copy()
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    if off[i, j] > 0 or not len(ev.y_true):
        return int(i), int(j)
    worst = int(np.argmax(ev.losses))
    return int(ev.y_true[worst]), int(ev.y_pred[worst])


class SamplePicker:
    """A source toggle and an indices field; `chosen` turns them into (split, indices) of a run."""

    def __init__(self, selected_cell: Callable[[], list[int]], default: str = "cell", limit: int = 16,
                 per_cell: int = 8):
        self.selected_cell, self.limit, self.per_cell = selected_cell, limit, per_cell
        self.source = labelled(W.ToggleButtons(options=[("test indices", "indices"), ("confusion cell", "cell"),
                                                        ("probe set", "probes")], value=default,
                                               style={"button_width": "110px"}), "samples", label_width="70px",
                               input_width=None)
        self.indices = labelled(W.Text(value="0, 1, 2, 3", continuous_update=False), "indices", label_width="70px",
                                input_width="260px")
        self.box = W.VBox([self.source, self.indices])

    def chosen(self, run: Run) -> tuple[str, list[int]]:
        """(split, indices) of ``run``'s data; a ValueError names what is wrong and what is allowed."""
        if self.source.value == "probes":
            meta = run.history.meta.get("probes")
            if meta:
                return meta["split"], list(meta["indices"])[: self.limit]
            raise ValueError("this run has no probe set (interpret.enabled was off)")
        if self.source.value == "cell":
            ev, selected = run.evaluation, self.selected_cell()
            if ev is None:
                raise ValueError("this run has no test evaluation, so no confusion-matrix cell to pick from; "
                                 "choose “test indices” instead")
            if len(selected) != 2:
                selected = list(first_cell(ev))  # what the Evaluation tab selects first
            idx = ev.cell(*selected)
            order = idx[np.argsort(-ev.losses[idx], kind="stable")][: self.per_cell]
            if len(order):
                return "test", [int(i) for i in order]
            true, pred = (ev.classes[i] for i in selected)
            raise ValueError(f"the confusion-matrix cell selected in the Evaluation tab (true {true}, predicted "
                             f"{pred}) holds no test samples; click a cell with a number above 0 there, or "
                             "choose “test indices”")
        try:
            idx = [int(v) for v in self.indices.value.replace(",", " ").split()]
        except ValueError:
            raise ValueError(f"indices: {self.indices.value!r} — allowed: whole numbers separated by commas") from None
        n = len(run.data.test)
        bad = [i for i in idx if not 0 <= i < n]
        if bad or not idx:
            raise ValueError(f"indices: {bad or self.indices.value!r} — allowed: 1 to {self.limit} indices from 0 "
                             f"to {n - 1}")
        return "test", idx[: self.limit]
