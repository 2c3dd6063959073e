"""The Model tab: architecture settings, parameter count and a layer summary."""

from __future__ import annotations

import ipywidgets as W
import torch

from ...data import DataBundle
from ...models import build_model, count_parameters, summarize
from ...models.freezing import apply_freeze
from ...models.transformer import explain_sizes
from ...recipe import ARCHS, DATA_KINDS, Recipe
from ..context import StudioContext
from ..forms import FORM_COLUMN, SIDE_COLUMN
from ..render import MUTED, error_html, table_html
from ..tasks import Latest
from .base import EVERYTHING, Tab


class ModelPanel(Tab):
    """Architecture and its parameters, parameter count and a compact layer summary."""

    title, key = "Model", "model"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.info = W.HTML()
        self.task = Latest(self._summarize, self._done, self._failed, delay=0.2, name="lepton_nb-model")
        left = W.VBox([W.HTML("<h4>Architecture</h4>"), ctx.form.sections["model"].box],
                      layout=W.Layout(flex=FORM_COLUMN))
        right = W.VBox([W.HTML("<h4>Summary</h4>"), self.info], layout=W.Layout(flex=SIDE_COLUMN))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    def tasks(self) -> tuple[Latest, ...]:
        return (self.task,)

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None:
        """Summarize the model again when it or the data changed."""
        if not changed & {"model", "data", "loaded", "failed"}:
            return
        data = self.ctx.data
        if recipe is not None and data is not None and data.source == recipe.data.source:
            self.task(recipe, data)
        elif data is None:  # the data did not load: a summary of the last data's model would mislead
            self.task.cancel()
            self.info.value = (f"<p style='{MUTED}'>The model's input size and classes come from the data: its "
                               "summary appears once the data loads (Data tab).</p>")

    def _summarize(self, recipe: Recipe, data: DataBundle) -> str:
        model = build_model(recipe.model, data.spec(), seed=0)
        frozen = apply_freeze(model, recipe.model.freeze)  # what Start trains: the same parts learn
        rows = summarize(model, data.input_shape, torch.long if DATA_KINDS[data.kind].tokens else torch.float32)
        table = [{"layer": r.name, "type": r.kind, "output": "×".join(map(str, r.output_shape[1:])),
                  "params": f"{r.params:,}"} for r in rows]
        total, trainable = count_parameters(model), count_parameters(model, trainable_only=True)
        train_note = (f" · <b>{trainable:,}</b> of {total:,} trainable ({100 * trainable / total:.1f} %)"
                      + (f"; frozen: {', '.join(frozen)}" if frozen else ""))
        sizes = ""
        if ARCHS[recipe.model.arch].encoder:
            parts = [{"part": label, "params": f"{n:,}"} for label, n in explain_sizes(recipe.model, data.spec())]
            sizes = ("<p>Each token becomes a vector of embed_dim numbers; every block lets each token look at the "
                     "others (attention, split into heads) and then transforms it (feed-forward of hidden units). "
                     "LoRA adapters, if set, add r×(in+out) weights per target layer.</p>"
                     + table_html(parts, left=("part",)))
        return (f"<p><b>{total:,}</b> parameters{train_note} · input {tuple(data.input_shape)} → "
                f"{len(data.classes)} classes</p>" + sizes + table_html(table, left=("layer", "type")))

    def _done(self, text: str) -> None:
        self.info.value = text

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.info.value = error_html(exc, tb)
