"""The Robustness tab: attack chosen samples, see what changed and why, measure accuracy-vs-ε curves of this
run beside earlier runs, and start adversarial training from the current recipe."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W
import numpy as np
import torch

from ...artifacts import Run
from ...interpret.attribution import explain
from ...plotting import new_figure, to_png
from ...plotting.attributions import plot_attribution_grid
from ...recipe import DATA_KINDS, Recipe
from ...robust import AttackResult, RobustnessCurve, attack, plot_attack, plot_robustness
from ...robust.attacks import default_alpha
from ...workflows import robustness
from ..access import Picture, labelled, number, stepped
from ..context import StudioContext
from ..forms import button
from ..render import BAD, MUTED, OK, error_html, set_png, table_html
from ..tasks import Latest
from .base import EVERYTHING, Tab
from .samples import SamplePicker

METHODS = (("PGD (L∞, 20 steps)", "pgd"), ("FGSM (one step)", "fgsm"), ("PGD (L2)", "pgd_l2"),
           ("random noise (gradient-free check)", "noise"))
LABEL = {"label_width": "90px", "input_width": "240px"}  # every field of the tab, named through `labelled`


def parse_eps(text: str) -> list[float]:
    """``"0, 0.05, 0.1"`` → [0.0, 0.05, 0.1]; a ValueError names the value and what is allowed."""
    try:
        values = [float(v) for v in text.replace(",", " ").split()]
    except ValueError:
        raise ValueError(f"ε values: {text!r} — allowed: numbers separated by commas, e.g. 0, 0.05, 0.1") from None
    if not values or len(values) > 20:
        raise ValueError(f"ε values: {text!r} — allowed: 1 to 20 numbers")
    return values


class RobustnessPanel(Tab):
    """Attack | perturbation | adversarial with predictions and attributions; curves; adversarial training."""

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.run: Run | None = None
        self.result: AttackResult | None = None
        self.curve: RobustnessCurve | None = None
        self.method = labelled(W.Dropdown(options=METHODS), "attack", **LABEL)
        self.eps = labelled(stepped(W.BoundedFloatText(value=0.1, min=0.0, max=100.0), lo=0.0, hi=100.0), "ε", **LABEL)
        self.steps = number(20, "steps", lo=1, hi=500, integer=True, **LABEL)
        self.unit = W.HTML(f"<span style='{MUTED}'>ε in the units you see: pixels in [0, 1] for images, "
                           "standard deviations of each column for tables.</span>")
        self.picker = SamplePicker(ctx.selected_cell, limit=8, per_cell=6)
        self.attack_button = button("Attack", icon="bolt", button_style="danger",
                                    tooltip="Perturb the chosen samples within ε to make the model wrong")
        self.explain = labelled(W.Checkbox(value=True), "with attributions (images: integrated gradients)",
                                label_width=None)
        self.status = W.HTML(f"<span style='{MUTED}'>Train an image or table run, then attack it here.</span>")
        self.image = Picture(format="png", layout=W.Layout(display="none"))
        self.attr_image = Picture(format="png", layout=W.Layout(display="none"))
        self.details = W.HTML()

        self.eps_list = labelled(W.Text(value="0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3", continuous_update=False),
                                 "ε values", **LABEL)
        self.samples = number(300, "test samples", lo=10, hi=10_000, integer=True, **LABEL)
        self.curve_button = button("Measure curve", icon="line-chart",
                                   tooltip="Accuracy under FGSM, PGD and random noise at each ε, with the sanity "
                                           "checks against gradient masking")
        self.compare = labelled(W.SelectMultiple(options=[], rows=4), "compare", **LABEL)
        self.compare.observe(lambda _: self.draw_curves(), names="value")
        self.curve_status = W.HTML()
        self.curve_image = Picture(format="png", layout=W.Layout(display="none"))
        self.checks = W.HTML()

        self.train_method = labelled(W.Dropdown(options=[
            ("FGSM with random start (2 passes/batch)", "fgsm_rs"), ("PGD (steps+1 passes/batch)", "pgd")]), "method",
            **LABEL)
        self.train_button = button("Train adversarially", icon="shield",
                                   tooltip="Put the current recipe with adversarial training at this ε into the "
                                           "panels and start it")
        self.train_status = W.HTML()

        self.task = Latest(self._attack_work, self._attacked, self._failed, name="lepton_nb-attack")
        self.curve_task = Latest(self._curve_work, self._curve_done, self._curve_failed, name="lepton_nb-curve")
        self.attack_button.on_click(lambda _: self.attack())
        self.curve_button.on_click(lambda _: self.measure())
        self.train_button.on_click(lambda _: self.train_adversarially())
        controls = W.VBox([self.method, self.eps, self.steps, self.picker.box, self.explain,
                           self.attack_button, self.status], layout=W.Layout(flex="0 0 360px"))
        self.box = W.VBox([
            self.unit,
            W.HBox([controls, W.VBox([self.image, self.attr_image, self.details], layout=W.Layout(flex="1 1 auto"))],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HTML("<h4>Accuracy under attack</h4>"),
            W.HBox([W.VBox([self.eps_list, self.samples, self.curve_button, self.compare, self.curve_status],
                           layout=W.Layout(flex="0 0 360px")),
                    W.VBox([self.curve_image, self.checks], layout=W.Layout(flex="1 1 auto"))],
                   layout=W.Layout(flex_flow="row wrap")),
            W.HTML("<h4>Adversarial training</h4>"),
            W.HTML(f"<span style='{MUTED}'>Trains on perturbed inputs within the ε above; the live curves add the "
                   "validation accuracy under PGD each epoch.</span>"),
            W.HBox([self.train_method, self.train_button]), self.train_status,
        ])

    # ---- runs ------------------------------------------------------------------------------------

    title, key = "Robustness", "robustness"

    def tasks(self) -> tuple[Latest, ...]:
        return (self.task, self.curve_task)

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None:
        if "runs" in changed:
            self.refresh_compare()

    def show_run(self, run: Run, visible: bool = True) -> None:
        """Attack this run from now on; list every run with a curve for comparison."""
        if run.evaluation is None:
            return
        self.run = run
        kind = run.data.kind if run.data is not None else (run.spec.kind if run.spec is not None else "")
        if DATA_KINDS[kind].tokens:
            self.status.value = error_html(ValueError(
                "attacks are not supported for text (its inputs are word ids, not continuous values); "
                "allowed: an image or table run"))
        else:
            self.status.value = (f"<span style='{MUTED}'>{html.escape(run.name)}: choose samples and ε, then "
                                 "Attack.</span>")
        self.refresh_compare()

    def refresh_compare(self) -> None:
        with_curve = [(r.name, i) for i, r in enumerate(self.ctx.runs) if "robustness" in r.extras]
        keep = tuple(v for v in self.compare.value if v in {i for _, i in with_curve})
        self.compare.options = with_curve
        self.compare.value = keep

    def _ready(self, status: W.HTML) -> bool:
        run = self.run
        if run is None or run.model is None or run.data is None:
            status.value = error_html(ValueError("train a run first (its model must still be in memory)"))
            return False
        return True

    # ---- attacking chosen samples ----------------------------------------------------------------

    def attack(self) -> bool:
        if not self._ready(self.status):
            return False
        try:
            split, idx = self.picker.chosen(self.run)
        except ValueError as exc:
            self.status.value = error_html(exc)
            return False
        self.status.value = f"<span style='{MUTED}'>attacking {len(idx)} sample(s)…</span>"
        self.task(self.run, split, idx, self.method.value, self.eps.value, self.steps.value, self.explain.value)
        return True

    def _attack_work(self, run: Run, split: str, idx: list[int], method: str, eps: float, steps: int,
                     with_attr: bool) -> tuple[AttackResult, Any]:
        result = attack(run, method, eps, split=split, indices=idx, steps=steps)
        attrs = None
        if with_attr and DATA_KINDS[run.data.kind].pixels:  # the model's own inputs: the run's normalization applied
            both = run.data.norm.apply(torch.cat([result.inputs, result.adversarial]))
            attrs = explain(run.model, both, "integrated_gradients", target="pred", data=run.data).attributions
        return result, None if attrs is None else attrs.numpy()

    def _attacked(self, out: tuple[AttackResult, Any]) -> None:
        result, attrs = out
        self.result = result
        run = self.run
        fooled = int((result.pred_after != result.labels).sum() - (result.pred_before != result.labels).sum())
        alpha = default_alpha(result.method, result.eps, self.steps.value)
        self.status.value = (
            f"<span style='{MUTED}'>{html.escape(result.method)} at ε = {result.eps:g} "
            f"({html.escape(result.unit_name)})"
            f"{f', step α = {alpha:.3g}' if alpha else ''}: accuracy {result.accuracy_before:.0%} → "
            f"{result.accuracy_after:.0%}; the attack flipped {max(fooled, 0)} of {len(result)} · success rate "
            f"{result.success_rate:.0%} of the correctly classified</span>")
        classes = result.classes
        if DATA_KINDS[run.data.kind].pixels:
            fig = new_figure(6.0, 1.6 * len(result) + 0.4)
            plot_attack(fig, result, k=len(result))
            set_png(self.image, to_png(fig), f"{len(result)} test images before and after the {result.method} attack "
                    f"at ε = {result.eps:g}: original, perturbation and adversarial image, with the predictions "
                    f"(accuracy {result.accuracy_before:.0%} before, {result.accuracy_after:.0%} after)")
            self.details.value = ""
        else:
            set_png(self.image, None, "")
            self.details.value = self._table_details(result)
        if attrs is not None and DATA_KINDS[run.data.kind].pixels:
            n = len(result)
            order = [k for i in range(n) for k in (i, n + i)]
            images = torch.cat([result.inputs, result.adversarial]).numpy()[order]
            preds = torch.cat([result.pred_before, result.pred_after]).tolist()
            titles = [f"{'orig' if k < n else 'adv'} #{int(result.indices[k % n])} → {classes[preds[k]]}"
                      for k in order]
            fig = new_figure(1.3 * 2 * n + 1.2, 4.4)
            plot_attribution_grid(fig, images, attrs[order], titles)
            set_png(self.attr_image, to_png(fig), "integrated-gradients attributions of the original and the "
                    "adversarial images: " + "; ".join(titles))
        else:
            set_png(self.attr_image, None, "")

    def _table_details(self, result: AttackResult) -> str:
        """Tables: which columns the attack moved most, in the column's own units, and the predictions."""
        names = self.run.data.feature_names
        rows = []
        for k in range(len(result)):
            delta = (result.adversarial[k] - result.inputs[k]).numpy()
            top = np.argsort(-np.abs(delta))[:4]
            rows.append({"sample": int(result.indices[k]),
                         "prediction": f"{result.classes[result.pred_before[k]]} → "
                                       f"{result.classes[result.pred_after[k]]}",
                         "columns moved most": ", ".join(f"{names[i]} {delta[i]:+.3g}" for i in top if delta[i])})
        return table_html(rows, left=("prediction", "columns moved most"))

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.status.value = error_html(exc, tb)

    # ---- curves ------------------------------------------------------------------------------------

    def measure(self) -> bool:
        if not self._ready(self.curve_status):
            return False
        try:
            eps = parse_eps(self.eps_list.value)
        except ValueError as exc:
            self.curve_status.value = error_html(exc)
            return False
        if not self.ctx.claim_job("a robustness curve"):
            self.curve_status.value = error_html(ValueError(self.ctx.job_message))
            return False
        self.curve_status.value = f"<span style='{MUTED}'>measuring {len(eps)} ε × 3 attacks…</span>"
        self.curve_task(self.run, eps, self.samples.value)
        return True

    def _curve_work(self, run: Run, eps: list[float], n: int) -> RobustnessCurve:
        try:
            return robustness(run, eps, n=n)[0]
        finally:
            self.ctx.release_job()

    def _curve_done(self, curve: RobustnessCurve) -> None:
        self.curve = curve
        self.refresh_compare()
        here = next((i for i, r in enumerate(self.ctx.runs) if r is self.run), None)
        if here is not None and here not in self.compare.value:
            self.compare.value = (*self.compare.value, here)
        self.curve_status.value = (f"<span style='{MUTED}'>{curve.n} {html.escape(curve.split)} samples, "
                                   f"{curve.seconds:.1f} s; saved with the run and in its report</span>")
        self.draw_curves()

    def _curve_failed(self, exc: BaseException, tb: str) -> None:
        self.curve_status.value = error_html(exc, tb)

    def draw_curves(self) -> None:
        runs = [self.ctx.runs[i] for i in self.compare.value if i < len(self.ctx.runs)]
        curves = [RobustnessCurve.from_dict(r.extras["robustness"]) for r in runs if "robustness" in r.extras]
        if not curves:
            set_png(self.curve_image, None, "")
            self.checks.value = ""
            return
        fig = new_figure(6.5, 3.8)
        plot_robustness(fig.subplots(), curves)
        set_png(self.curve_image, to_png(fig), f"accuracy against ε under each attack, for {len(curves)} run(s); "
                "the sanity checks below give the numbers")
        items = []
        for c in curves:
            for check in c.checks:
                mark = "✓" if check.passed else "⚠"
                colour = OK if check.passed else BAD
                detail = "" if check.passed else f": {html.escape(check.detail)}"
                items.append(f"<li style='color:{colour}'>{mark} {html.escape(c.run)} · {html.escape(check.name)}"
                             f"{detail}</li>")
        self.checks.value = (f"<b>Sanity checks against gradient masking</b> (Carlini et al. 2019)<ul>{''.join(items)}"
                             "</ul>" if items else "")

    # ---- adversarial training ------------------------------------------------------------------------

    def train_adversarially(self) -> bool:
        """The panels' recipe with adversarial training at this ε, loaded into the panels and started."""
        try:
            recipe = self.ctx.recipe.updated({"train.adversarial.method": self.train_method.value,
                                              "train.adversarial.eps": self.eps.value})
        except Exception as exc:  # a recipe error names the field and what is allowed
            self.train_status.value = error_html(exc)
            return False
        self.ctx.load_recipe(recipe)
        if not self.ctx.start(force=True):  # a click: the user chose to train
            self.train_status.value = error_html(ValueError(f"not started: {self.ctx.job_message}"))
            return False
        self.train_status.value = (f"<span style='{MUTED}'>started {html.escape(self.train_method.value)} "
                                   f"adversarial training at ε = {self.eps.value:g}: watch “val under PGD” in "
                                   "the live curves above</span>")
        return True

