"""The search-space editor: every searchable field with a "search" tick, its distribution and its range.

Built from the recipe's field metadata (`searchable_fields`), so each row shows what the field allows
(in words; the search space's own terms on hover); ticking a field proposes a range around its current
value. Only the fields that apply to the recipe are listed (its data kind, architecture, scheduler, ...:
the fields' ``applies_to``, as the forms hide them), and every ticked field. The editor's value is the
recipe's ``search.space``; the recipe validates it as a whole (problems appear under the editor).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ...recipe import KIND_WORDS, KINDS, SOURCE_KIND, Recipe, allowed_text, plain_allowed, searchable_fields
from ..access import labelled

SECTION_TITLES = {"normalize": "Normalization", "augment": "Augmentation", "model": "Model", "train": "Training"}
KINDS_HOVER = ("How values are drawn between low and high (log scale: as many tries from 0.001 to 0.01 as from 0.01 "
               "to 0.1) — in a recipe's search space: " + "; ".join(f"{k}: {w}" for k, w in KIND_WORDS.items()) + ".")


def recipe_context(recipe: Recipe, space: dict[str, dict[str, Any]]) -> set[Any]:
    """What decides which fields apply: data source and kind, architecture, scheduler, normalization, attack,
    adapter — the recipe's, and every value a searched choice may take."""
    context = {recipe.data.source, SOURCE_KIND.get(recipe.data.source, ""), recipe.model.arch,
               recipe.train.scheduler, recipe.normalize.method, recipe.train.adversarial.method,
               recipe.model.adapter.kind}
    for dist in space.values():
        if isinstance(dist, dict) and isinstance(dist.get("choice"), list):
            context.update(v for v in dist["choice"] if isinstance(v, str))
    return context


def applies(meta: dict[str, Any], context: set[Any]) -> bool:
    """A field applies unless its metadata names the kinds/architectures it is for and none is in ``context``."""
    return not meta.get("applies_to") or bool(context & set(meta["applies_to"]))


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
        self.tick = labelled(W.Checkbox(layout=W.Layout(width="210px"), tooltip=f"search {key}"), label,
                             label_width=None)
        self.tick.add_class(f"lnb-search-{key.replace('.', '-')}")
        # each box named by its own short visible label (a placeholder is no name: it goes when one types)
        self.kind = labelled(W.Dropdown(options=[(KIND_WORDS[k], k) for k in kinds], layout=W.Layout(width="225px"),
                                        tooltip=KINDS_HOVER), "kind", label_width=None)
        self.low = labelled(W.Text(continuous_update=False, layout=W.Layout(width="120px")), "low", label_width=None)
        self.high = labelled(W.Text(continuous_update=False, layout=W.Layout(width="125px")), "high",
                             label_width=None)
        self.choices = labelled(W.Text(placeholder="comma-separated", continuous_update=False,
                                       layout=W.Layout(width="250px")), "values", label_width=None)
        self.allowed = W.HTML(f"<span style='color:var(--jp-ui-font-color2,#666);font-size:11px' "
                              f"title=\"{html.escape('in a recipe: ' + allowed_text(typ, meta), quote=True)}\">"
                              f"{html.escape(plain_allowed(typ, meta))}</span>")
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
            values = [value for _, value in self.kind.options]
            self.kind.value = kind if kind in values else values[0]
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
        self.groups: dict[str, W.VBox] = {}
        for section, title in SECTION_TITLES.items():
            rows = [r.box for k, r in self.rows.items() if k.startswith(section + ".")]
            if rows:
                self.groups[section] = W.VBox([W.HTML(f"<b>{title}</b>"), *rows])
        self.hidden_note = W.HTML()
        self.box = W.VBox([*self.groups.values(), self.hidden_note])
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

    def show_for(self, recipe: Recipe) -> list[str]:
        """List only the fields that apply to ``recipe`` (and every ticked one); returns the listed keys."""
        space = self.get()
        context = recipe_context(recipe, space)
        shown = [k for k, r in self.rows.items() if k in space or applies(r.meta, context)]
        for key, row in self.rows.items():
            row.box.layout.display = "" if key in shown else "none"
        for section, group in self.groups.items():
            group.layout.display = "" if any(k.startswith(section + ".") for k in shown) else "none"
        hidden = len(self.rows) - len(shown)
        self.hidden_note.value = (f"<p style='font-size:11px;color:var(--jp-ui-font-color2,#666)'>{hidden} more "
                                  "fields do not apply to this recipe (its data, architecture, scheduler or "
                                  "attack) and are not listed.</p>" if hidden else "")
        return shown

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
