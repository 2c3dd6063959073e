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


def worst_cell(ev: EvalResult) -> tuple[int, int]:
    """The off-diagonal cell with the most samples (what a teacher would look at first)."""
    off = ev.confusion.copy()
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    return int(i), int(j)


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
            if ev is not None and len(selected) != 2:
                selected = list(worst_cell(ev))  # what the Evaluation tab selects first
            if ev is not None:
                idx = ev.cell(*selected)
                order = idx[np.argsort(-ev.losses[idx], kind="stable")][: self.per_cell]
                if len(order):
                    return "test", [int(i) for i in order]
            raise ValueError("no confusion-matrix cell with samples is selected (Evaluation tab)")
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
