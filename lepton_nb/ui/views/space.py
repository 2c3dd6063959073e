"""The search-space editor: every searchable field with a "search" tick, its distribution and its range.

Built from the recipe's field metadata (`searchable_fields`), so each row shows what the field allows;
ticking a field proposes a range around its current value. The editor's value is the recipe's
``search.space``; the recipe validates it as a whole (problems appear under the editor).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ...recipe import KINDS, Recipe, allowed_text, searchable_fields
from ..access import labelled

SECTION_TITLES = {"normalize": "Normalization", "augment": "Augmentation", "model": "Model", "train": "Training"}


def default_distribution(typ: type, meta: dict[str, Any], value: Any) -> dict[str, Any]:
    """A sensible first range for a field: around its current value, within what it allows."""
    lo, hi = meta.get("min"), meta.get("max")
    if typ is bool:
        return {"choice": [True, False]}
    if typ is str:
        return {"choice": list(meta["choices"])}
    if typ is float:
        if meta.get("log") and value > 0:
            return {"log_uniform": [max(lo, value / 10), min(hi, value * 10)]}
        span = (value or 0.1) * 2
        return {"uniform": [lo, min(hi, max(lo + 1e-6, span))]}
    value = int(value)
    return {"int": [int(lo), int(min(hi, max(lo + 1, value * 2)))]}


def _parse(text: str, typ: type) -> Any:
    """A typed value from a text box; the text itself when it does not parse (validation names it)."""
    text = text.strip()
    if typ is str:
        return text
    if typ is bool:
        return {"true": True, "false": False}.get(text.lower(), text)
    try:
        number = float(text)
    except ValueError:
        return text
    if typ is int and math.isfinite(number) and number.is_integer():
        return int(number)
    return number


class SpaceRow:
    """One field: tick, distribution kind, low/high (or choices), and what the field allows."""

    def __init__(self, key: str, typ: type, meta: dict[str, Any]):
        self.key, self.typ, self.meta = key, typ, meta
        kinds = [k for k in KINDS if k in {float: ("uniform", "log_uniform", "choice"),
                                           int: ("int", "log_int", "choice")}.get(typ, ("choice",))]
        label = key.split(".", 1)[1]
        self.tick = labelled(W.Checkbox(layout=W.Layout(width="210px")), label, label_width=None)
        self.tick.add_class(f"lnb-search-{key.replace('.', '-')}")
        # each box named by its own short visible label (a placeholder is no name: it goes when one types)
        self.kind = labelled(W.Dropdown(options=kinds, layout=W.Layout(width="145px")), "kind", label_width=None)
        self.low = labelled(W.Text(continuous_update=False, layout=W.Layout(width="120px")), "low", label_width=None)
        self.high = labelled(W.Text(continuous_update=False, layout=W.Layout(width="125px")), "high",
                             label_width=None)
        self.choices = labelled(W.Text(placeholder="comma-separated", continuous_update=False,
                                       layout=W.Layout(width="250px")), "values", label_width=None)
        self.allowed = W.HTML(f"<span style='color:var(--jp-ui-font-color2,#666);font-size:11px'>"
                              f"{html.escape(allowed_text(typ, meta))}</span>")
        self.allowed.add_class("lnb-allowed")
        self.box = W.HBox([self.tick, self.kind, self.low, self.high, self.choices, self.allowed],
                          layout=W.Layout(align_items="center"))
        self._show_inputs()
        self.kind.observe(lambda _: self._show_inputs(), names="value")

    def _show_inputs(self) -> None:
        choice = self.kind.value == "choice"
        active = self.tick.value
        self.kind.layout.visibility = "visible" if active else "hidden"
        for w in (self.low, self.high):
            w.layout.display = "none" if choice else ""
            w.layout.visibility = "visible" if active else "hidden"
        self.choices.layout.display = "" if choice else "none"
        self.choices.layout.visibility = "visible" if active else "hidden"

    def get(self) -> dict[str, Any] | None:
        if not self.tick.value:
            return None
        if self.kind.value == "choice":
            parts = [p for p in re.split(r"\s*,\s*", self.choices.value.strip()) if p]
            return {"choice": [_parse(p, self.typ) for p in parts]}
        return {self.kind.value: [_parse(self.low.value, self.typ), _parse(self.high.value, self.typ)]}

    def set(self, dist: dict[str, Any] | None) -> None:
        self.tick.value = dist is not None
        if dist is not None:
            kind, args = next(iter(dist.items()))
            self.kind.value = kind if kind in self.kind.options else self.kind.options[0]
            if kind == "choice":
                self.choices.value = ", ".join(str(v).lower() if isinstance(v, bool) else str(v) for v in args)
            elif isinstance(args, list) and len(args) == 2:
                self.low.value, self.high.value = (f"{v:g}" if isinstance(v, (int, float)) else str(v) for v in args)
        self._show_inputs()


class SpaceEditor:
    """Rows for every searchable field, grouped by section; ``get``/``set`` the recipe's ``search.space``."""

    def __init__(self, recipe: Recipe, on_change: Callable[[], None]):
        self.rows = {key: SpaceRow(key, typ, meta) for key, (typ, meta) in searchable_fields(Recipe).items()}
        self.current = recipe
        self._on_change = on_change
        self._muted = False
        groups = []
        for section, title in SECTION_TITLES.items():
            rows = [r.box for k, r in self.rows.items() if k.startswith(section + ".")]
            if rows:
                groups.append(W.VBox([W.HTML(f"<b>{title}</b>"), *rows]))
        self.box = W.VBox(groups)
        for row in self.rows.values():
            row.tick.observe(lambda change, r=row: self._ticked(r, change["new"]), names="value")
            for w in (row.kind, row.low, row.high, row.choices):
                w.observe(lambda _: self._changed(), names="value")

    def _ticked(self, row: SpaceRow, on: bool) -> None:
        if self._muted:
            return
        self._muted = True
        try:
            row.set(default_distribution(row.typ, row.meta, self.current.get(row.key)) if on else None)
        finally:
            self._muted = False
        self._changed()

    def _changed(self) -> None:
        if not self._muted:
            self._on_change()

    def get(self) -> dict[str, dict[str, Any]]:
        return {k: d for k, r in self.rows.items() if (d := r.get()) is not None}

    def set(self, space: dict[str, dict[str, Any]]) -> None:
        self._muted = True
        try:
            for key, row in self.rows.items():
                row.set(space.get(key))
        finally:
            self._muted = False

    def tick(self, key: str, dist: dict[str, Any] | None = None) -> None:
        """Search a field (with ``dist``, or the proposed range around its current value)."""
        row = self.rows[key]
        if dist is None:
            row.tick.value = True
        else:
            self.set({**self.get(), key: dist})
            self._on_change()
