"""The Interpret tab: explain chosen samples with any fitting Captum method, per-class averages, and the
live attribution timeline."""

from __future__ import annotations

import html
from collections import defaultdict
from typing import Any

import ipywidgets as W
import numpy as np
import torch

from ...artifacts import Run
from ...interpret.attribution import Explanation, explain, fitting_methods
from ...plotting import new_figure, to_png
from ...plotting.attributions import (
    attribution_map,
    plot_attribution_grid,
    plot_feature_bars,
    plot_global_importance,
    shared_scale,
    token_html,
)
from ...spec import BASELINES, METHODS
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, error_html, set_png, table_html
from ..tasks import Latest
from ..views.attention import AttentionExplorer
from ..views.timeline import AttributionTimeline
from .evaluate import worst_cell


class InterpretPanel:
    """Method, parameters, target, baseline and samples → original | attribution | overlay."""

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.run: Run | None = None
        self.result: Explanation | None = None
        self.method = W.Dropdown(description="method", options=["integrated_gradients"],
                                 style={"description_width": "70px"}, layout=W.Layout(width="330px"))
        self.params_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.params: dict[str, W.Widget] = {}
        self.target = W.Dropdown(description="target", options=[("predicted class", "pred"), ("true class", "true")],
                                 style={"description_width": "70px"}, layout=W.Layout(width="330px"))
        self.baseline = W.Dropdown(description="baseline", options=list(BASELINES),
                                   style={"description_width": "70px"}, layout=W.Layout(width="330px"))
        self.source = W.ToggleButtons(options=[("test indices", "indices"), ("confusion cell", "cell"),
                                               ("probe set", "probes")], value="cell",
                                      style={"button_width": "110px"})
        self.indices = W.Text(value="0, 1, 2, 3", description="indices", style={"description_width": "70px"},
                              layout=W.Layout(width="330px"), continuous_update=False)
        self.explain_button = button("Explain", icon="lightbulb-o", button_style="primary")
        self.classes_button = button("Average per class", icon="th-large",
                                     tooltip="Mean attribution of each class's test samples (target: true class)")
        self.status = W.HTML(f"<span style='{MUTED}'>Train a run, then explain its predictions here.</span>")
        self.image = W.Image(format="png", layout=W.Layout(display="none"))
        self.image.add_class("lnb-explain-image")
        self.html = W.HTML()
        self.class_image = W.Image(format="png", layout=W.Layout(display="none"))
        self.class_html = W.HTML()
        self.timeline = AttributionTimeline()
        self.attention = AttentionExplorer()
        self.task = Latest(self._explain_work, self._explained, self._failed, name="lepton_nb-explain")
        self.class_task = Latest(self._class_work, self._class_done, self._failed, name="lepton_nb-explain-classes")
        self.method.observe(lambda _: self._build_params(), names="value")
        self.explain_button.on_click(lambda _: self.explain())
        self.classes_button.on_click(lambda _: self.per_class())
        self._build_params()
        controls = W.VBox([self.method, self.params_box, self.target, self.baseline, self.source, self.indices,
                           W.HBox([self.explain_button, self.classes_button]), self.status],
                          layout=W.Layout(flex="0 0 360px"))
        self.box = W.VBox([
            W.HBox([controls, W.VBox([self.image, self.html], layout=W.Layout(flex="1 1 auto"))],
                   layout=W.Layout(flex_flow="row wrap")),
            self.attention.box,
            W.HTML("<h4>Average attribution per class</h4>"), self.class_image, self.class_html,
            W.HTML("<h4>Live attribution timeline</h4>"), self.timeline,
            W.HTML("<h4>Probes during training</h4>"), ctx.form.sections["interpret"].box,
        ])

    def _build_params(self) -> None:
        spec = METHODS.get(self.method.value)
        self.params = {}
        for name, p in (spec.params.items() if spec else []):
            cls = W.IntSlider if p.integer else W.FloatSlider
            kwargs = {} if p.integer else {"step": (p.max - p.min) / 200}
            self.params[name] = cls(value=p.default, min=p.min, max=min(p.max, 200) if p.integer else p.max,
                                    description=name, tooltip=p.help, style={"description_width": "80px"},
                                    layout=W.Layout(width="330px"), **kwargs)
        self.params_box.children = list(self.params.values())
        self.baseline.disabled = not (spec and spec.baseline)

    def show_run(self, run: Run) -> None:
        """Offer the methods that fit this run's model and data."""
        self.run = run
        self.attention.show_run(run)
        if run.model is None or run.data is None:
            self.status.value = f"<span style='{MUTED}'>This run's model was released.</span>"
            return
        fits = fitting_methods(run.model, run.data.kind)
        current = run.recipe.interpret_method
        self.method.options = [(METHODS[m].label, m) for m in fits]
        self.method.value = current if current in fits else fits[0]
        self.target.options = [("predicted class", "pred"), ("true class", "true")] + [
            (f"class {c}", i) for i, c in enumerate(run.data.classes)]
        self.baseline.options = [b for b in BASELINES if b != "blur" or run.data.kind == "image"]
        self.status.value = f"<span style='{MUTED}'>{html.escape(run.name)}: pick samples and press Explain.</span>"

    # ---- explaining chosen samples ---------------------------------------------------------

    def chosen_indices(self) -> tuple[str, list[int]]:
        """(split, indices) from the picker: typed test indices, the Evaluation tab's cell, or the probes."""
        run = self.run
        if self.source.value == "probes":
            meta = run.history.meta.get("probes")
            if meta:
                return meta["split"], list(meta["indices"])
            raise ValueError("this run has no probe set (interpret.enabled was off)")
        if self.source.value == "cell":
            ev, selected = run.evaluation, self.ctx.selected_cell()
            if ev is not None and len(selected) != 2:
                selected = list(worst_cell(ev))  # what the Evaluation tab selects first
            if ev is not None:
                idx = ev.cell(*selected)
                order = idx[np.argsort(-ev.losses[idx], kind="stable")][:8]
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
            raise ValueError(f"indices: {bad or self.indices.value!r} — allowed: 1 to 16 indices from 0 to {n - 1}")
        return "test", idx[:16]

    def explain(self) -> bool:
        run = self.run
        if run is None or run.model is None or run.data is None:
            self.status.value = error_html(ValueError("train a run first (its model must still be in memory)"))
            return False
        try:
            split, idx = self.chosen_indices()
        except ValueError as exc:
            self.status.value = error_html(exc)
            return False
        self.status.value = f"<span style='{MUTED}'>explaining {len(idx)} sample(s)…</span>"
        params = {k: w.value for k, w in self.params.items()}
        self.task(run, split, idx, self.method.value, self.target.value, self.baseline.value, params)
        return True

    def _explain_work(self, run: Run, split: str, idx: list[int], method: str, target: Any, baseline: str,
                      params: dict[str, Any]) -> tuple[Explanation, str, list[int]]:
        data = run.data
        x = data.inputs(split)[torch.as_tensor(idx)]
        labels = data.labels(split)[torch.as_tensor(idx)]
        return explain(run.model, x, method, target=target, labels=labels, baseline=baseline, data=data,
                       **params), split, idx

    def _explained(self, result: tuple[Explanation, str, list[int]]) -> None:
        exp, split, idx = result
        self.result = exp
        run = self.run
        data, classes = run.data, run.data.classes
        labels = data.labels(split)[torch.as_tensor(idx)].tolist()
        titles = [f"#{i} {classes[t]}→{classes[p]} {c:.2f}" for i, t, p, c in
                  zip(idx, labels, exp.predictions.tolist(), exp.confidence.tolist())]
        delta = ""
        if exp.delta is not None:
            delta = f" · convergence delta (|sum - (f(x) - f(baseline))|): max {float(exp.delta.abs().max()):.2e}"
        explained = ", ".join(classes[t] for t in exp.target.tolist()[:8])
        self.status.value = (f"<span style='{MUTED}'>{html.escape(METHODS[exp.method].label)} · explained classes: "
                             f"{html.escape(explained)}{html.escape(delta)}</span>")
        attrs = exp.attributions.numpy()
        if data.kind == "image":
            fig = new_figure(1.4 * len(idx) + 1.2, 4.4)
            plot_attribution_grid(fig, data.raw(split, torch.as_tensor(idx)).numpy(), attrs, titles)
            set_png(self.image, to_png(fig))
            self.html.value = ""
        elif data.kind == "text":
            set_png(self.image, None)
            rows = []
            scale = shared_scale([a for a in attrs])
            for k, i in enumerate(idx):
                words = data.vocab.decode(data.splits[split].x[i])
                rows.append(f"<div style='margin:4px 0'><b>{html.escape(titles[k])}</b><br>"
                            f"{token_html(words, attrs[k][: len(words)], scale)}</div>")
            self.html.value = "".join(rows)
        else:
            cols = min(4, len(idx))
            rows = int(np.ceil(len(idx) / cols))
            fig = new_figure(3.0 * cols, 2.2 * rows)
            axes = fig.subplots(rows, cols, squeeze=False)
            for k, ax in enumerate(axes.flat):
                if k < len(idx):
                    plot_feature_bars(ax, attrs[k], data.feature_names, top=10, title=titles[k])
                else:
                    ax.axis("off")
            set_png(self.image, to_png(fig))
            self.html.value = ""

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)

    # ---- per-class averages -----------------------------------------------------------------

    def per_class(self, per_class: int = 16) -> bool:
        run = self.run
        if run is None or run.model is None or run.data is None:
            self.status.value = error_html(ValueError("train a run first (its model must still be in memory)"))
            return False
        self.class_html.value = f"<span style='{MUTED}'>computing…</span>"
        params = {k: w.value for k, w in self.params.items()}
        self.class_task(run, self.method.value, self.baseline.value, params, per_class)
        return True

    def _class_work(self, run: Run, method: str, baseline: str, params: dict[str, Any], per_class: int) -> Any:
        data = run.data
        y = data.labels("test").numpy()
        idx = np.concatenate([np.flatnonzero(y == c)[:per_class] for c in range(len(data.classes))])
        exp = explain(run.model, data.inputs("test")[torch.as_tensor(idx)], method, target="true",
                      labels=torch.as_tensor(y[idx]), baseline=baseline, data=data, **params)
        return idx, y[idx], exp.attributions.numpy()

    def _class_done(self, result: Any) -> None:
        idx, labels, attrs = result
        data = self.run.data
        classes = data.classes
        if data.kind == "image":
            maps = [np.mean([attribution_map(a) for a, yy in zip(attrs, labels) if yy == c], axis=0)
                    for c in range(len(classes)) if (labels == c).any()]
            present = [c for c in range(len(classes)) if (labels == c).any()]
            scale = shared_scale(maps)
            fig = new_figure(1.1 * len(maps) + 0.6, 1.6)
            axes = fig.subplots(1, len(maps), squeeze=False)[0]
            from matplotlib.colors import TwoSlopeNorm

            for ax, m, c in zip(axes, maps, present):
                ax.imshow(m, cmap="RdBu_r", norm=TwoSlopeNorm(0, -scale, scale), interpolation="nearest")
                ax.set_title(classes[c], fontsize=8)
                ax.set_xticks([])
                ax.set_yticks([])
            set_png(self.class_image, to_png(fig))
            self.class_html.value = (f"<span style='{MUTED}'>mean attribution of up to {int(np.bincount(labels).max())}"
                                     " test samples per class, for their true class</span>")
        elif data.kind == "tabular":
            fig = new_figure(6, 4)
            plot_global_importance(fig.subplots(), attrs, data.feature_names)
            set_png(self.class_image, to_png(fig))
            rows = []
            for c in range(len(classes)):
                if (labels == c).any():
                    mean = attrs[labels == c].mean(0)
                    top = np.argsort(-mean)[:4]
                    rows.append({"class": classes[c], "strongest evidence for it": ", ".join(
                        f"{data.feature_names[i]} ({mean[i]:+.2f})" for i in top)})
            self.class_html.value = "<b>Global importance (mean |attribution|)</b>" + table_html(
                rows, left=("class", "strongest evidence for it"))
        else:
            set_png(self.class_image, None)
            rows = []
            for c in range(len(classes)):
                totals: dict[str, float] = defaultdict(float)
                for k in np.flatnonzero(labels == c):
                    words = data.vocab.decode(data.test.x[idx[k]])
                    for w, v in zip(words, attrs[k][: len(words)]):
                        totals[w] += float(v)
                top = sorted(totals, key=lambda w: -totals[w])[:8]
                rows.append({"class": classes[c], "words pushing towards it": ", ".join(top)})
            self.class_html.value = table_html(rows, left=("class", "words pushing towards it"))
