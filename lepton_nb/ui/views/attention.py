"""Attention explorer: type a sentence, pick a layer and head, see where each token looked and the rollout."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ...interpret.attention import AttentionView, explain_attention
from ...plotting import new_figure, to_png
from ...plotting.attention import plot_attention_head, plot_rollout
from ...recipe import ARCHS
from ..access import Picture, labelled
from ..render import MUTED, error_html, set_png
from ..tasks import Latest


class AttentionExplorer:
    """For text_transformer runs: one head's weights and the attention rollout of a typed sentence."""

    def __init__(self) -> None:
        self.run: Any = None
        self.view: AttentionView | None = None
        self.sentence = labelled(W.Text(value="", placeholder="a sentence to look into", continuous_update=False),
                                 "sentence", label_width="70px", input_width="350px")
        self.layer = labelled(W.Dropdown(options=[0]), "layer", label_width="70px", input_width="130px")
        self.head = labelled(W.Dropdown(options=[0]), "head", label_width="50px", input_width="130px")
        self.show_button = W.Button(description="Show attention", icon="eye", layout=W.Layout(width="160px"))
        self.status = W.HTML(f"<span style='{MUTED}'>Attention maps need a text_transformer run.</span>")
        self.image = Picture(format="png", layout=W.Layout(display="none"))
        self.task = Latest(self._work, self._done, self._failed, name="lepton_nb-attention")
        self.show_button.on_click(lambda _: self.show())
        self.layer.observe(lambda _: self._redraw(), names="value")
        self.head.observe(lambda _: self._redraw(), names="value")
        self.box = W.VBox([W.HTML("<h4>Attention (text_transformer)</h4>"),
                           W.HBox([self.sentence, self.show_button]), W.HBox([self.layer, self.head]), self.status,
                           self.image], layout=W.Layout(display="none"))

    def show_run(self, run: Any) -> None:
        """Enable the explorer for a text_transformer run (its first test sentence as a start)."""
        self.run = run if getattr(getattr(run, "recipe", None), "model", None) and \
            ARCHS[run.recipe.model.arch].encoder else None
        self.box.layout.display = "" if self.run is not None else "none"
        if self.run is not None:
            texts = run.data.test.texts if run.data is not None and run.data.test.texts else []
            if texts and not self.sentence.value:
                self.sentence.value = texts[0]

    def show(self) -> bool:
        if self.run is None or not self.sentence.value.strip():
            self.status.value = f"<span style='{MUTED}'>Type a sentence of a text_transformer run.</span>"
            return False
        self.status.value = f"<span style='{MUTED}'>computing…</span>"
        self.task(self.run, self.sentence.value)
        return True

    def _work(self, run: Any, sentence: str) -> AttentionView:
        return explain_attention(run, [sentence])[0]

    def _done(self, view: AttentionView) -> None:
        self.view = view
        with self.layer.hold_trait_notifications(), self.head.hold_trait_notifications():
            self.layer.options = list(range(view.layers))
            self.head.options = list(range(view.heads))
        self._redraw()

    def _redraw(self) -> None:
        view = self.view
        if view is None or self.layer.value is None or self.head.value is None:
            return
        layer, head = min(int(self.layer.value), view.layers - 1), min(int(self.head.value), view.heads - 1)
        fig = new_figure(9.0, 3.6)
        ax1, ax2 = fig.subplots(1, 2, width_ratios=[1.2, 1])
        plot_attention_head(ax1, view.head(layer, head), view.tokens, f"layer {layer}, head {head}")
        plot_rollout(ax2, view.rollout, view.tokens)
        set_png(self.image, to_png(fig), f"attention of layer {layer}, head {head} between the {len(view.tokens)} "
                f"tokens of the sentence, and the attention rollout: how much each token feeds the prediction")
        self.status.value = (f"<span style='{MUTED}'>prediction: <b>{html.escape(view.prediction)}</b> · "
                             f"attention shows where tokens looked, not why the model decided: compare with the "
                             f"word attributions above.</span>")

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)
