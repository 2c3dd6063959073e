"""The Augmentation tab: the ordered pipeline of ops, with a seeded preview of augmented variants."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import torch

from ...data import DataBundle
from ...interpret.probes import probe_indices
from ...recipe import AUGMENT_OPS, DATA_KINDS, SOURCE_KIND, Recipe, default_op
from ..access import Picture, labelled, number
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, error_html, image_grid_png, set_png, table_html
from ..tasks import Latest
from .base import EVERYTHING, Tab


def _features(data: DataBundle, row: torch.Tensor) -> dict[str, float]:
    return {n: round(float(v), 3) for n, v in list(zip(data.feature_names, row.tolist()))[:6]}


class OpEntry:
    """One op of the pipeline: its parameters as number fields, and buttons to move it up, down or out."""

    def __init__(self, op: dict[str, Any], on_change: Callable[[], None], on_move: Callable[[OpEntry, int], None],
                 on_remove: Callable[[OpEntry], None]):
        self.name = op["op"]
        spec = AUGMENT_OPS[self.name]
        self.fields: dict[str, W.Widget] = {}
        for pname, p in spec.params.items():
            self.fields[pname] = number(op.get(pname, p.default), pname, lo=p.min, hi=p.max, integer=p.integer,
                                        tooltip=p.help, label_width="70px", input_width="110px")
            self.fields[pname].observe(lambda _: on_change(), names="value")
        self.title = W.HTML()
        moves = []
        for icon, tip, action in (("arrow-up", "Apply earlier", lambda _: on_move(self, -1)),
                                  ("arrow-down", "Apply later", lambda _: on_move(self, 1)),
                                  ("times", "Remove from the pipeline", lambda _: on_remove(self))):
            b = W.Button(icon=icon, tooltip=tip, layout=W.Layout(width="32px", padding="0"))  # the icon fits
            b.on_click(action)
            moves.append(b)
        self.up, self.down, self.remove = moves
        help_ = W.HTML(f"<span style='{MUTED};font-size:11px'>{html.escape(spec.help)}</span>",
                       layout=W.Layout(flex="1 1 200px"))
        self.box = W.VBox([W.HBox([self.title, *moves, help_], layout=W.Layout(flex_flow="row wrap")),
                           W.HBox(list(self.fields.values()), layout=W.Layout(flex_flow="row wrap",
                                                                               margin="0 0 0 24px"))],
                          layout=W.Layout(margin="2px 0"))

    def value(self) -> dict[str, Any]:
        return {"op": self.name, **{k: s.value for k, s in self.fields.items()}}


class AugmentPanel(Tab):
    """The augmentation pipeline as an ordered list of ops (repeats allowed, applied top to bottom), exactly
    as the recipe lists them; a seeded preview of augmented variants refreshes as parameters change."""

    VARIANTS = 3
    title, key = "Augmentation", "augment"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.preview_seed = 0
        self.kind = ctx.form.recipe.kind
        self.entries: list[OpEntry] = []
        self._quiet = False
        self.pipeline = W.VBox()
        self.add_choice = labelled(W.Dropdown(), "op", label_width="30px", input_width="190px")
        self.add_button = button("Add op", icon="plus", tooltip="Append this op to the end of the pipeline")
        self.add_button.on_click(lambda _: self.add(self.add_choice.value))
        self.resample = button("Resample", icon="random", tooltip="Draw new random variants")
        self.resample.on_click(self._resample)
        self.preview = Picture(format="png", layout=W.Layout(display="none"))
        self.preview_html = W.HTML()
        self.status = W.HTML()
        self.task = Latest(self._render, self._rendered, self._failed, delay=0.25, name="lepton_nb-augment")
        ctx.form.add_extra("augment.ops", self.ops, self.set_ops)
        self.show_for_kind(self.kind)
        self.set_ops(ctx.form.recipe.augment.ops)
        left = W.VBox([ctx.form.sections["augment"].box,
                       W.HTML("<h4>Pipeline</h4><p style='font-size:11px;color:var(--jp-ui-font-color2,#666)'>"
                              "Applied to training batches from top to bottom; an op may appear more than once.</p>"),
                       self.pipeline, W.HBox([self.add_choice, self.add_button])], layout=W.Layout(flex="1 1 420px"))
        right = W.VBox([W.HTML("<h4>Preview</h4><p style='font-size:11px;color:var(--jp-ui-font-color2,#666)'>"
                               "Top row: original samples; below: random variants as training sees them "
                               "(before normalization). Seeded: the same settings show the same variants.</p>"),
                        self.resample, self.status, self.preview, self.preview_html], layout=W.Layout(flex="1 1 420px"))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def ops(self) -> list[dict[str, Any]]:
        """The pipeline as the recipe's ``augment.ops``: order and repeats kept."""
        return [entry.value() for entry in self.entries]

    def set_ops(self, ops: list[dict[str, Any]]) -> None:
        self._quiet = True
        try:
            self.entries = [self._entry(op) for op in ops if op.get("op") in AUGMENT_OPS]
        finally:
            self._quiet = False
        self._layout()

    def add(self, name: str) -> None:
        """Append an op with default parameters."""
        self.entries.append(self._entry(default_op(name)))
        self._layout()
        self._changed()

    def show_for_kind(self, kind: str) -> None:
        """Only ops that fit the data kind are offered; ops of the pipeline that do not fit are removed."""
        self.kind = kind
        fitting = [name for name, spec in AUGMENT_OPS.items() if kind in spec.kinds]
        self.add_choice.options = [(name.replace("_", " "), name) for name in fitting]
        kept = [e for e in self.entries if e.name in fitting]
        if len(kept) != len(self.entries):
            self.entries = kept
            self._layout()
            self._changed()

    def _entry(self, op: dict[str, Any]) -> OpEntry:
        return OpEntry(op, self._changed, self._move, self._remove)

    def _move(self, entry: OpEntry, delta: int) -> None:
        i = self.entries.index(entry)
        j = min(max(i + delta, 0), len(self.entries) - 1)
        if i != j:
            self.entries[i], self.entries[j] = self.entries[j], self.entries[i]
            self._layout()
            self._changed()

    def _remove(self, entry: OpEntry) -> None:
        self.entries.remove(entry)
        self._layout()
        self._changed()

    def _layout(self) -> None:
        for i, entry in enumerate(self.entries):
            entry.title.value = f"<b>{i + 1}. {html.escape(entry.name.replace('_', ' '))}</b>"
            entry.up.disabled, entry.down.disabled = i == 0, i == len(self.entries) - 1
        self.pipeline.children = [e.box for e in self.entries] or [
            W.HTML(f"<span style='{MUTED}'>No ops: training sees the data as it is.</span>")]

    def _changed(self, _change: Any = None) -> None:
        if self._quiet:
            return
        self.ctx.form.changed()
        self.render_preview()

    def _resample(self, _button: Any) -> None:
        self.preview_seed += 1
        self.render_preview()

    def tasks(self) -> tuple[Latest, ...]:
        return (self.task,)

    def refresh(self, recipe: Recipe | None = None, changed: frozenset[str] = EVERYTHING) -> None:
        """A new data source (or new data) offers the ops of its kind; new data is previewed."""
        if changed & {"data", "loaded"}:
            data = self.ctx.data if "loaded" in changed else None
            source = self.ctx.form.values()["data"]["source"]
            self.show_for_kind(data.kind if data is not None else SOURCE_KIND.get(source, "image"))
        if changed & {"loaded", "failed"}:  # the new data's preview, or none of other data
            self.render_preview()

    def render_preview(self) -> None:
        """Render augmented variants of a few train samples (seeded) in the background."""
        data = self.ctx.data
        if data is not None:
            self.status.value = f"<span style='{MUTED}'>rendering…</span>"
            self.task(data, self.ops(), self.preview_seed)
        else:  # no data loaded (yet, or it failed): no preview of other data
            self.task.cancel()
            self.status.value = f"<span style='{MUTED}'>The preview appears once the data loads (Data tab).</span>"
            self.preview_html.value = ""
            set_png(self.preview, None, "")

    def _render(self, data: DataBundle, ops: list[dict[str, Any]], seed: int) -> tuple[str, bytes | None]:
        idx = probe_indices(data.train.y, 8)
        aug = data.augmenter(ops)
        g = torch.Generator().manual_seed(seed)
        raw = data.raw("train", torch.as_tensor(idx))
        if DATA_KINDS[data.kind].pixels:
            variants = [raw] + [aug(raw.clone(), g) if ops else raw for _ in range(self.VARIANTS)]
            grid = torch.cat(variants).clamp(0, 1).numpy()
            titles = [data.classes[int(data.train.y[i])] for i in idx] + [""] * (len(grid) - len(idx))
            return "", image_grid_png(grid, titles, cols=len(idx))
        if DATA_KINDS[data.kind].tokens:
            rows = []
            for k in range(min(4, len(idx))):
                rows.append({"variant": "original", "sentence": " ".join(data.vocab.decode(raw[k]))})
                for v in range(self.VARIANTS):
                    ids = aug(raw[k:k + 1].clone(), g)[0] if ops else raw[k]
                    rows.append({"variant": f"#{v + 1}", "sentence": " ".join(data.vocab.decode(ids))})
            return table_html(rows, left=("variant", "sentence")), None
        x = data.prepare(raw)
        rows = []
        for k in range(min(4, len(idx))):
            rows.append({"variant": "original", **_features(data, x[k])})
            for v in range(self.VARIANTS):
                rows.append({"variant": f"#{v + 1}", **_features(data, aug(x[k:k + 1].clone(), g)[0] if ops else x[k])})
        return f"<p style='{MUTED}'>standardized feature values</p>" + table_html(rows, left=("variant",)), None

    def _rendered(self, result: tuple[str, bytes | None]) -> None:
        self.status.value = ""
        self.preview_html.value, png = result
        ops = ", ".join(e.name.replace("_", " ") for e in self.entries) or "no ops"
        set_png(self.preview, png, f"original training samples (top row) and {self.VARIANTS} random variants of each "
                f"below, augmented by: {ops}")

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)
