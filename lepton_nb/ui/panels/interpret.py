"""The Interpret tab: explain chosen samples with any fitting Captum method, per-class averages, and the
live attribution timeline."""

from __future__ import annotations

import html
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import ipywidgets as W
import numpy as np
import torch

from ...artifacts import Run
from ...interpret.attribution import Explanation, explain, fitting_methods
from ...interpret.trust import TrustReport, trust
from ...plotting import new_figure, to_png
from ...plotting.attributions import (
    attribution_map,
    plot_attribution_grid,
    plot_feature_bars,
    plot_global_importance,
    shared_scale,
    token_html,
)
from ...recipe import BASELINES, DATA_KINDS, METHODS, baselines_for
from ...workflows import Session
from ..access import Picture, labelled, number
from ..context import StudioContext
from ..forms import button
from ..render import BUSY, MUTED, error_html, set_png, table_html
from ..tasks import Latest
from ..views.attention import AttentionExplorer
from ..views.timeline import AttributionTimeline
from .base import Tab
from .samples import SamplePicker


class InterpretPanel(Tab):
    """Method, parameters, target, baseline and samples → original | attribution | overlay."""

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.run: Run | None = None
        self.result: Explanation | None = None
        self.method = labelled(W.Dropdown(options=["integrated_gradients"]), "method", label_width="70px",
                               input_width="260px")
        self.params_box = W.HBox(layout=W.Layout(flex_flow="row wrap"))
        self.params: dict[str, W.Widget] = {}
        self.target = labelled(W.Dropdown(options=[("predicted class", "pred"), ("true class", "true")]), "target",
                               label_width="70px", input_width="260px")
        self.baseline = labelled(W.Dropdown(options=list(BASELINES)), "baseline", label_width="70px",
                                 input_width="260px")
        self.picker = SamplePicker(ctx.selected_cell)
        self.source, self.indices = self.picker.source, self.picker.indices
        self.explain_button = button("Explain", icon="lightbulb-o", button_style="primary")
        self.trust_button = button("Is it trustworthy?", icon="check-square-o",
                                   tooltip="Infidelity, max-sensitivity and the model-randomization check of this "
                                           "method on the chosen samples")
        self.trust_html = W.HTML()
        self.trust_report: TrustReport | None = None
        self.trust_task = Latest(self._trust_work, self._trusted, self._trust_failed, name="lepton_nb-trust")
        self.classes_button = button("Average per class", icon="th-large",
                                     tooltip="Mean attribution of each class's test samples (target: true class)")
        self.status = W.HTML(f"<span style='{MUTED}'>Train a run, then explain its predictions here.</span>")
        self.image = Picture(format="png", layout=W.Layout(display="none"))
        self.image.add_class("lnb-explain-image")
        self.html = W.HTML()
        self.class_image = Picture(format="png", layout=W.Layout(display="none"))
        self.class_html = W.HTML()
        self.timeline = AttributionTimeline()
        self.attention = AttentionExplorer()
        self.task = Latest(self._explain_work, self._explained, self._failed, name="lepton_nb-explain")
        self.class_task = Latest(self._class_work, self._class_done, self._failed, name="lepton_nb-explain-classes")
        self.method.observe(lambda _: self._build_params(), names="value")
        self.explain_button.on_click(lambda _: self.explain())
        self.classes_button.on_click(lambda _: self.per_class())
        self.trust_button.on_click(lambda _: self.check_trust())
        self._build_params()
        controls = W.VBox([self.method, self.params_box, self.target, self.baseline, self.picker.box,
                           W.HBox([self.explain_button, self.classes_button]), self.trust_button, self.status,
                           self.trust_html],
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
            self.params[name] = number(p.default, p.label or name, lo=p.min,
                                       hi=min(p.max, 200) if p.integer else p.max, integer=p.integer,
                                       tooltip=f"{p.help} (technical name: {name})", label_width="80px",
                                       input_width="110px")
        self.params_box.children = list(self.params.values())
        self.baseline.disabled = not (spec and spec.baseline)

    title, key = "Interpret", "interpret"

    def tasks(self) -> tuple[Latest, ...]:
        return (self.task, self.trust_task, self.class_task)

    def follow(self, session: Session) -> Callable[[], None]:
        """The attribution timeline follows a run's probes as it trains."""
        self.timeline.bind(session.history, lambda: session.trainer and session.trainer.data)
        return self.timeline.push

    def show_run(self, run: Run, visible: bool = True) -> None:
        """Offer the methods that fit this run's model and data."""
        if run.evaluation is None:
            return
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
        self.baseline.options = baselines_for(run.data.kind)
        self.status.value = f"<span style='{MUTED}'>{html.escape(run.name)}: pick samples and press Explain.</span>"

    # ---- explaining chosen samples ---------------------------------------------------------

    def chosen_indices(self) -> tuple[str, list[int]]:
        """(split, indices) from the picker: typed test indices, the Evaluation tab's cell, or the probes."""
        return self.picker.chosen(self.run)

    def _samples_or_say(self, status: W.HTML) -> tuple[str, list[int]] | None:
        """The chosen samples of a run still in memory; otherwise None, with the reason in ``status``."""
        run = self.run
        try:
            if run is None or run.model is None or run.data is None:
                raise ValueError("train a run first (its model must still be in memory)")
            return self.chosen_indices()
        except ValueError as exc:
            status.value = error_html(exc)
            return None

    def explain(self) -> bool:
        run, chosen = self.run, self._samples_or_say(self.status)
        if chosen is None:
            return False
        split, idx = chosen
        self.status.value = f"<span style='{MUTED}'>explaining {len(idx)} sample(s)…</span>"
        self.image.add_class(BUSY)  # busy: the previous pictures stay, dimmed, until the new ones come
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
            delta = (f" · completeness gap {float(exp.delta.abs().max()):.2e} (how far the attributions' sum is "
                     f"from the score's change from the baseline; near 0 is good)")
        explained = ", ".join(classes[t] for t in exp.target.tolist()[:8])
        attrs = exp.attributions.numpy()
        if DATA_KINDS[data.kind].pixels:
            fig = new_figure(1.4 * len(idx) + 1.2, 4.4)
            plot_attribution_grid(fig, data.raw(split, torch.as_tensor(idx)).numpy(), attrs, titles)
            set_png(self.image, to_png(fig), f"{METHODS[exp.method].label} attributions of {len(idx)} test image(s): "
                    f"each image, its attribution map (red for, blue against {explained}) and the overlay; "
                    + "; ".join(titles))
            self.html.value = ""
        elif DATA_KINDS[data.kind].tokens:
            set_png(self.image, None, "")
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
            set_png(self.image, to_png(fig), f"{METHODS[exp.method].label} attributions of the features of {len(idx)} "
                    "sample(s), the ten strongest as bars; " + "; ".join(titles))
            self.html.value = ""
        # the caption says "done" only once its pictures are there
        self.image.remove_class(BUSY)
        self.status.value = (f"<span style='{MUTED}'>{html.escape(METHODS[exp.method].label)} · explained classes: "
                             f"{html.escape(explained)}{html.escape(delta)}</span>")

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.image.remove_class(BUSY)
        self.status.value = error_html(exc, tb)

    # ---- are the attributions trustworthy? ------------------------------------------------------

    def check_trust(self) -> bool:
        run, chosen = self.run, self._samples_or_say(self.trust_html)
        if chosen is None:
            return False
        split, idx = chosen
        self.trust_html.value = f"<span style='{MUTED}'>checking {len(idx)} sample(s)…</span>"
        params = {k: w.value for k, w in self.params.items()}
        self.trust_task(run, split, idx[:8], self.method.value, self.target.value, params)
        return True

    def _trust_work(self, run: Run, split: str, idx: list[int], method: str, target: Any,
                    params: dict[str, Any]) -> TrustReport:
        x = run.data.inputs(split)[torch.as_tensor(idx)]
        labels = run.data.labels(split)[torch.as_tensor(idx)]
        target = labels if target == "true" else target
        return trust(run.model, x, run.data, method, target, **params)

    def _trusted(self, report: TrustReport) -> None:
        self.trust_report = report
        self.trust_html.value = (f"<b>{html.escape(METHODS[report.method].label)} on {report.n} sample(s)</b>"
                                 + table_html(report.rows(), left=("check", "reading")))

    def _trust_failed(self, exc: BaseException, tb: str) -> None:
        self.trust_html.value = error_html(exc, tb)

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
        if DATA_KINDS[data.kind].pixels:
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
            set_png(self.class_image, to_png(fig), f"mean attribution map of each of {len(maps)} classes: "
                    + ", ".join(classes[c] for c in present))
            self.class_html.value = (f"<span style='{MUTED}'>mean attribution of up to {int(np.bincount(labels).max())}"
                                     " test samples per class, for their true class</span>")
        elif DATA_KINDS[data.kind].columns:
            fig = new_figure(6, 4)
            plot_global_importance(fig.subplots(), attrs, data.feature_names)
            set_png(self.class_image, to_png(fig), "global importance of each feature (mean absolute attribution) as "
                    "bars; the table names each class's strongest evidence")
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
            set_png(self.class_image, None, "")
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
