"""The Evaluation tab: metrics, clickable confusion matrix, per-class scores, top losses, k-fold CV."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np

from ...artifacts import Run
from ...evaluation import EvalResult
from ...plotting import new_figure, plot_cv, plot_per_class, to_png
from ...recipe import Recipe
from ...recipe.labels import metric_help, metric_label
from ...training.control import Control
from ...workflows import CVResult
from ..access import Picture
from ..context import StudioContext
from ..forms import button
from ..render import BUSY, MUTED, Hint, error_html, metric_rows, sample_view, set_png, table_html
from ..tasks import Latest
from ..views.confusion import ConfusionMatrix
from .base import Tab
from .samples import first_cell


class EvaluatePanel(Tab):
    """Metrics, clickable confusion matrix, per-class scores, cell samples, top losses, k-fold CV."""

    title, key = "Evaluation", "evaluate"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.run: Run | None = None
        self._pending = False
        self.metrics = W.HTML(f"<p style='{MUTED}'>Train a run to see its evaluation here.</p>")
        self.confusion = ConfusionMatrix()
        self.confusion.observe(self._cell_selected, names="selected")
        self.cell_title = W.HTML()
        self.cell_html = W.HTML()
        self.cell_png = Picture(format="png", layout=W.Layout(display="none"))
        self.per_class = W.HTML()
        self.per_class_png = Picture(format="png", layout=W.Layout(display="none"))
        self.top_title = W.HTML()
        self.top_html = W.HTML()
        self.top_png = Picture(format="png", layout=W.Layout(display="none"))
        self.cv_button = button("Cross-validate", icon="th", tooltip="k-fold CV in the background")
        self.cv_stop = button("Stop CV", icon="stop", disabled=True)
        self.cv_status = W.HTML()
        self.cv_result_html = W.HTML()
        self.cv_png = Picture(format="png", layout=W.Layout(display="none"))
        self.cv_result: CVResult | None = None
        self.cv_recipe: Recipe | None = None
        self.cv_control = Control()
        self.cv_task = Latest(self._cv_work, self._cv_done, self._cv_failed, name="lepton_nb-cv")
        self.cv_button.on_click(lambda _: self.start_cv())
        self.cv_stop.on_click(lambda _: self.cv_control.stop())
        self.box = W.VBox([
            W.HBox([W.VBox([W.HTML("<h4>Test metrics</h4>"), self.metrics], layout=W.Layout(flex="1 1 220px")),
                    W.VBox([W.HTML("<h4>Confusion matrix</h4><p style='font-size:11px;color:var(--jp-ui-font-color2,"
                                   "#666)'>Click a cell to see those samples.</p>"), self.confusion],
                           layout=W.Layout(flex="1 1 420px"))], layout=W.Layout(flex_flow="row wrap")),
            self.cell_title, self.cell_png, self.cell_html,
            W.HTML("<h4>Per class</h4>"), self.per_class_png, self.per_class,
            self.top_title, self.top_png, self.top_html,
            W.HTML("<h4>k-fold cross-validation</h4>"), ctx.form.sections["evaluate"].box,
            W.HBox([self.cv_button, self.cv_stop]), self.cv_status, self.cv_png, self.cv_result_html,
        ])

    # ---- a finished run ----------------------------------------------------------------------

    def show_run(self, run: Run, visible: bool = True) -> None:
        """Show a finished run; rendering waits until the panel is visible (``render_pending``)."""
        if run.evaluation is None:
            return
        self.run = run
        self._pending = not visible
        if visible:
            self._render()

    def shown(self) -> None:
        self.render_pending()

    def tasks(self) -> tuple[Latest, ...]:
        return (self.cv_task,)

    def stop(self) -> None:
        self.cv_control.stop()

    def cross_validate_twin(self, wait: bool = True, timeout: float | None = None) -> CVResult | None:
        """`start_cv` as the studio's twin: the CVResult when ``wait``."""
        if not self.start_cv():
            return None
        if wait:
            self.cv_task.wait(timeout)
            return self.cv_result
        return None

    def render_pending(self) -> None:
        if self._pending and self.run is not None:
            self._pending = False
            self._render()

    def _render(self) -> None:
        run = self.run
        ev = run.evaluation
        if ev is None or run.data is None:
            self.metrics.value = f"<p style='{MUTED}'>This run has no test split to evaluate.</p>"
            return
        rows = metric_rows(run.metrics)
        self.metrics.value = (f"<p style='{MUTED}'>{html.escape(run.name)} · {html.escape(run.status)} · "
                              f"{len(ev.y_true)} test samples</p>" + table_html(rows, left=("metric",)))
        self.confusion.matrix = ev.confusion.tolist()
        self.confusion.labels = list(ev.classes)
        selected = list(first_cell(ev))
        if self.confusion.selected == selected:  # the same cell as the last run's: show this run's samples
            self._cell_selected({"new": selected})
        self.confusion.selected = selected
        fig = new_figure(max(6, 0.5 * len(ev.classes) + 2), 2.8)
        plot_per_class(fig.subplots(), ev.per_class)
        set_png(self.per_class_png, to_png(fig), f"precision, recall and F1 of each of the {len(ev.classes)} classes "
                "as bars; the per-class table gives the numbers")
        self.per_class.value = table_html(ev.per_class, left=("class",))
        k = max(1, run.recipe.evaluate.top_losses)
        top = ev.top_losses(k)
        wrong = int((ev.y_true[top] != ev.y_pred[top]).sum())
        self.top_title.value = (f"<h4>Top {len(top)} losses: {wrong} wrong</h4><p style='font-size:11px'>true → "
                                f"predicted (confidence); red: wrong, green: right but unsure</p>")
        text, png = sample_view(run.data, "test", top, _titles(ev, top), ["#c62828" if ev.y_true[i] != ev.y_pred[i]
                                                                          else "#2e7d32" for i in top])
        self.top_html.value = text
        set_png(self.top_png, png, f"the {len(top)} test samples with the highest loss, true → predicted "
                "(confidence): " + ", ".join(_titles(ev, top)))

    def _cell_selected(self, change: Any) -> None:
        self.ctx.selected = list(change["new"])
        run = self.run
        if run is None or run.evaluation is None or run.data is None or len(change["new"]) != 2:
            return
        ev = run.evaluation
        true, pred = change["new"]
        idx = ev.cell(true, pred)
        order = idx[np.argsort(-ev.losses[idx], kind="stable")][:32]
        verb = "correctly classified" if true == pred else f"predicted as {ev.classes[pred]}"
        caption = f"{len(idx)} test sample(s) of class {html.escape(ev.classes[true])} {html.escape(verb)}"
        note = ""
        if true == pred and not len(ev.misclassified()):
            note = (f"<p style='{MUTED}'>No test sample is misclassified: these are the correctly classified "
                    "samples the model was least sure of (highest loss).</p>")
        elif len(idx) > len(order):
            note = f"<p style='{MUTED}'>showing {len(order)}, highest loss first</p>"
        # busy while the samples render (dimmed by a CSS class: a synced trait, unlike layout properties that
        # ipywidgets does not have), then caption and samples change together: never a caption above the
        # previous cell's images
        with self.cell_title.hold_sync(), self.cell_png.hold_sync():
            self.cell_title.value = f"<h4 style='{MUTED}'>{caption} — loading…</h4>"
            self.cell_png.add_class(BUSY)
        text, png = sample_view(run.data, "test", order, _titles(ev, order))
        with self.cell_title.hold_sync(), self.cell_html.hold_sync(), self.cell_png.hold_sync():
            self.cell_html.value = text
            set_png(self.cell_png, png, f"{caption}, highest loss first: " + ", ".join(_titles(ev, order)))
            self.cell_png.remove_class(BUSY)
            self.cell_title.value = f"<h4>{caption}</h4>" + note

    # ---- cross-validation --------------------------------------------------------------------

    def start_cv(self) -> bool:
        recipe = self.ctx.form.validate()
        if recipe is None:
            self.cv_status.value = error_html(ValueError("fix the recipe first (see the problems shown)"))
            return False
        if not self.ctx.claim_job("cross-validation"):
            self.cv_status.value = error_html(ValueError(self.ctx.job_message))
            return False
        self.cv_control = Control()
        self.cv_button.disabled, self.cv_stop.disabled = True, False
        self.cv_recipe = recipe
        self.cv_status.value = (f"<span style='{MUTED}'>{recipe.evaluate.cv_folds}-fold CV of the panels' recipe "
                                f"({html.escape(recipe.summary())}) running…</span>")
        self.cv_task(recipe)
        return True

    def _cv_work(self, recipe: Recipe) -> CVResult:
        folds = recipe.evaluate.cv_folds

        def on_fold(i: int, metrics: dict[str, float]) -> None:
            self.cv_status.value = (f"<span style='{MUTED}'>fold {i + 1}/{folds}: accuracy "
                                    f"{metrics.get('accuracy', float('nan')):.4f}</span>")

        return self.ctx.session.call("cross_validate", recipe, folds=folds, control=self.cv_control,
                                     on_progress=on_fold)  # in the training process, like training

    def _cv_done(self, result: CVResult) -> None:
        self.ctx.release_job()
        self.cv_result = result
        self.cv_button.disabled, self.cv_stop.disabled = False, True
        if not result.folds:
            self.cv_status.value = f"<span style='{MUTED}'>stopped before the first fold finished</span>"
            return
        rows = [{"metric": Hint(metric_label(k), metric_help(k)), "mean": result.mean[k], "± std": result.std[k]}
                for k in result.mean]
        self.cv_status.value = (f"{len(result.folds)} folds, {html.escape(result.status)} · recipe "
                                f"{html.escape(self.cv_recipe.summary() if self.cv_recipe else '')}")
        self.cv_result_html.value = table_html(rows, left=("metric",)) + table_html(
            [{"fold": i + 1, **f} for i, f in enumerate(result.folds)])
        fig = new_figure(4.5, 2.4)
        plot_cv(fig.subplots(), result.folds, "accuracy" if "accuracy" in result.mean else next(iter(result.mean)))
        set_png(self.cv_png, to_png(fig), f"{len(result.folds)} folds' scores as bars; the table gives the numbers")

    def _cv_failed(self, exc: BaseException, tb: str) -> None:
        self.ctx.release_job()
        self.cv_button.disabled, self.cv_stop.disabled = False, True
        self.cv_status.value = error_html(exc, tb)


def _titles(ev: EvalResult, idx: Any) -> list[str]:
    return [f"{ev.classes[ev.y_true[i]]}→{ev.classes[ev.y_pred[i]]} ({ev.probs[i].max():.2f})" for i in idx]
