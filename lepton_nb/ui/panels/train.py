"""The Training tab: every hyperparameter with inline validation, and the LR finder."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ...artifacts import Run
from ...plotting import new_figure, plot_lr_find, to_png
from ...recipe import Recipe
from ...training.control import Control
from ...workflows import LRFindResult
from ..access import Picture
from ..context import StudioContext
from ..forms import FORM_COLUMN, SIDE_COLUMN, button
from ..render import MUTED, WARN, error_html, plain_message, set_png
from ..tasks import Latest
from .base import Tab
from .pretrain import PretrainStep

ONE_CYCLE_FACTOR = 4  # the finder's advice for one_cycle: a peak 3-10x the steepest-descent lr


class TrainPanel(Tab):
    """Every training hyperparameter (a generated form), the LR finder, and run errors."""

    title, key = "Training", "train"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.lr_button = button("Find learning rate", icon="search",
                                tooltip="Range test: raise the lr over ~150 batches of a fresh model")
        self.lr_apply = button("Use suggested lr", icon="check", disabled=True)
        self.lr_status = W.HTML()
        self.lr_plot = Picture(format="png", layout=W.Layout(display="none"))
        self.lr_result: LRFindResult | None = None
        self.lr_control = Control()
        self.lr_task = Latest(self._find, self._found, self._find_failed, name="lepton_nb-lr-find")
        self.lr_button.on_click(lambda _: self.find_lr())
        self.lr_apply.on_click(lambda _: self.apply_lr())
        self.error = W.HTML()
        self.pretrain = PretrainStep(ctx)
        self.box = W.HBox([
            W.VBox([W.HTML("<h4>Hyperparameters</h4>"), W.HBox([W.HTML("<b>run name</b>", layout=W.Layout(
                width="150px")), ctx.form.name.widget]), ctx.form.sections["train"].box],
                layout=W.Layout(flex=FORM_COLUMN)),
            W.VBox([W.HTML("<h4>Learning-rate finder</h4>"), W.HBox([self.lr_button, self.lr_apply]),
                    self.lr_status, self.lr_plot, W.HTML("<h4>Last run</h4>"), self.error, self.pretrain.box],
                   layout=W.Layout(flex=SIDE_COLUMN)),
        ], layout=W.Layout(flex_flow="row wrap"))

    def find_lr(self) -> None:
        recipe, data = self.ctx.form.validate(), self.ctx.data
        if recipe is None or data is None:
            self.lr_status.value = error_html(ValueError("fix the recipe and load the data first"))
            return
        if not self.ctx.claim_job("the LR finder"):  # it would compete with a training for the CPU
            self.lr_status.value = error_html(ValueError(f"cannot run the LR finder: {self.ctx.job_message}"))
            return
        self.lr_control = Control()
        self.lr_button.disabled = True
        self.lr_status.value = f"<span style='{MUTED}'>running the range test…</span>"
        self.lr_task(recipe, self.ctx.data_for(recipe))

    def _find(self, recipe: Recipe, data: Any) -> LRFindResult:
        return self.ctx.session.call("lr_find", recipe, data=data, control=self.lr_control)  # where runs train

    def _found(self, result: LRFindResult) -> None:
        self.ctx.release_job()
        self.lr_result = result
        self.lr_button.disabled = False
        fig = new_figure(5, 2.6)
        plot_lr_find(fig.subplots(), result.lrs, result.losses, result.suggestion)
        set_png(self.lr_plot, to_png(fig), f"learning-rate finder: loss against learning rate over {len(result.lrs)} "
                f"rates from {min(result.lrs):.2g} to {max(result.lrs):.2g}"
                + (f"; suggested {result.suggestion:.2g}" if result.suggestion else ""))
        if result.suggestion:
            self.lr_status.value = (f"suggested learning rate <b>{result.suggestion:.3g}</b> (steepest descent of "
                                    f"the loss); with one_cycle, 3–10× that works well as the peak, so “Use "
                                    f"suggested lr” sets {ONE_CYCLE_FACTOR}× it for one_cycle.")
            self.lr_apply.disabled = False
        else:
            self.lr_status.value = "no clear suggestion: the loss did not fall; try another optimizer or model"

    def _find_failed(self, exc: BaseException, tb: str) -> None:
        self.ctx.release_job()
        self.lr_button.disabled = False
        self.lr_status.value = error_html(exc, tb)

    def apply_lr(self) -> float | None:
        """Set the lr the finder advises for the recipe's schedule: with one_cycle the suggestion is the
        steepest point and the peak goes a few times higher (ONE_CYCLE_FACTOR×); otherwise the suggestion."""
        if self.lr_result is None or not self.lr_result.suggestion:
            return None
        s = self.lr_result.suggestion
        one_cycle = self.ctx.recipe.train.scheduler == "one_cycle"
        lr = float(f"{s * ONE_CYCLE_FACTOR if one_cycle else s:.3g}")
        self.ctx.form.controls()["train.lr"].set(lr)
        how = (f"{ONE_CYCLE_FACTOR}× the suggestion {s:.3g}, as the one_cycle peak" if one_cycle
               else f"the suggestion (schedule {self.ctx.recipe.train.scheduler})")
        self.lr_status.value = f"applied lr <b>{lr:g}</b>: {html.escape(how)}"
        return lr

    def find_lr_twin(self, wait: bool = True, timeout: float = 120) -> LRFindResult | None:
        """`find_lr` as the studio's twin: the result when ``wait``."""
        self.find_lr()
        if wait:
            self.lr_task.wait(timeout)
            return self.lr_result
        return None

    def tasks(self) -> tuple[Latest, ...]:
        return (self.lr_task,)

    def stop(self) -> None:
        self.lr_control.stop()

    def show_run(self, run: Run, visible: bool = True) -> None:
        self.show_end(self.ctx.session, self.ctx.view_error)

    def show_end(self, session: Any, view_error: str | None = None) -> None:
        """How the last run ended; also a live-view failure (the run itself went on) and detached observers;
        a finished pretraining run's encoder is offered for fine-tuning."""
        self.pretrain.finished(session.run)
        failures = [f"the live view failed and stopped updating: {view_error}"] if view_error else []
        trainer = session.trainer
        failures += [f"{f.handler} failed and was detached: {f.message}" for f in
                     (trainer.events.failures if trainer is not None else [])]
        note = "".join(f"<div style='color:{WARN}'>⚠ {html.escape(f)} (training went on)</div>" for f in failures)
        self._show_status(session)
        self.error.value += note

    def _show_status(self, session: Any) -> None:
        if session.state == "error":
            text, kind = plain_message(session.message)
            hover = f" title=\"technical name: {html.escape(kind, quote=True)}\"" if kind else ""
            self.error.value = (f"<div class='lnb-error'{hover}>⚠ the run failed: "
                                f"{html.escape(text)}</div><details><summary>traceback</summary>"
                                f"<pre style='font-size:11px;white-space:pre-wrap'>"
                                f"{html.escape(session.traceback)}</pre></details>"
                                f"<p style='{MUTED}'>The history so far is kept in the Runs tab.</p>")
        elif session.state == "diverged":
            self.error.value = f"<div class='lnb-error'>⚠ {html.escape(session.message)}</div>"
        else:  # "completed", or "stopped — stopped by user": the message only when it adds something
            extra = f" — {session.message}" if session.message and session.message != session.state else ""
            self.error.value = f"<span style='{MUTED}'>{html.escape(session.state + extra)}</span>"
