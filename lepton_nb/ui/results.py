"""The studio's Training, Evaluation and Runs panels."""

from __future__ import annotations

import base64
import html
import json
from typing import TYPE_CHECKING, Any

import anywidget
import ipywidgets as W
import numpy as np
import traitlets as t

from ..evaluate import CVResult, EvalResult, cross_validate
from ..plotting import new_figure, plot_cv, plot_lr_find, plot_per_class, to_png
from ..recipe import Recipe
from ..train.control import Control
from ..train.lr_find import LRFindResult, lr_find
from .assets import asset
from .forms import button
from .panels import error_html, set_png
from .render import MUTED, png_img, sample_view, table_html
from .tasks import Latest

if TYPE_CHECKING:
    from ..run import Run
    from .studio import Studio


class TrainPanel:
    """Every training hyperparameter (a generated form), the LR finder, and run errors."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.lr_button = button("Find learning rate", icon="search",
                                tooltip="Range test: raise the lr over ~150 batches of a fresh model")
        self.lr_apply = button("Use suggested lr", icon="check", disabled=True)
        self.lr_status = W.HTML()
        self.lr_plot = W.Image(format="png", layout=W.Layout(display="none"))
        self.lr_result: LRFindResult | None = None
        self.lr_control = Control()
        self.lr_task = Latest(self._find, self._found, self._find_failed, name="lepton_nb-lr-find")
        self.lr_button.on_click(lambda _: self.find_lr())
        self.lr_apply.on_click(lambda _: self.apply_lr())
        self.error = W.HTML()
        self.box = W.HBox([
            W.VBox([W.HTML("<h4>Hyperparameters</h4>"), W.HBox([W.HTML("<b>run name</b>", layout=W.Layout(
                width="150px")), studio.form.name.widget]), studio.form.sections["train"].box],
                layout=W.Layout(flex="1 1 55%")),
            W.VBox([W.HTML("<h4>Learning-rate finder</h4>"), W.HBox([self.lr_button, self.lr_apply]),
                    self.lr_status, self.lr_plot, W.HTML("<h4>Last run</h4>"), self.error],
                   layout=W.Layout(flex="1 1 45%")),
        ], layout=W.Layout(flex_flow="row wrap"))

    def find_lr(self) -> None:
        recipe, data = self.studio.form.validate(), self.studio.data
        if recipe is None or data is None:
            self.lr_status.value = error_html(ValueError("fix the recipe and load the data first"))
            return
        self.lr_control = Control()
        self.lr_button.disabled = True
        self.lr_status.value = f"<span style='{MUTED}'>running the range test…</span>"
        self.lr_task(recipe, self.studio.data_for(recipe))

    def _find(self, recipe: Recipe, data: Any) -> LRFindResult:
        return lr_find(recipe, data, control=self.lr_control)

    def _found(self, result: LRFindResult) -> None:
        self.lr_result = result
        self.lr_button.disabled = False
        fig = new_figure(5, 2.6)
        plot_lr_find(fig.subplots(), result.lrs, result.losses, result.suggestion)
        set_png(self.lr_plot, to_png(fig))
        if result.suggestion:
            self.lr_status.value = (f"suggested learning rate <b>{result.suggestion:.3g}</b> (steepest descent of "
                                    f"the loss); with one_cycle, 3–10× that works well as the peak.")
            self.lr_apply.disabled = False
        else:
            self.lr_status.value = "no clear suggestion: the loss did not fall; try another optimizer or model"

    def _find_failed(self, exc: BaseException, tb: str) -> None:
        self.lr_button.disabled = False
        self.lr_status.value = error_html(exc, tb)

    def apply_lr(self) -> None:
        if self.lr_result is not None and self.lr_result.suggestion:
            self.studio.form.controls()["train.lr"].set(float(f"{self.lr_result.suggestion:.3g}"))

    def show_error(self, session: Any) -> None:
        if session.state == "error":
            self.error.value = (f"<div class='lnb-error' style='color:#b71c1c'>⚠ the run failed: "
                                f"{html.escape(session.message)}</div><details><summary>traceback</summary>"
                                f"<pre style='font-size:11px;white-space:pre-wrap'>"
                                f"{html.escape(session.traceback)}</pre></details>"
                                f"<p style='{MUTED}'>The history so far is kept in the Runs tab.</p>")
        elif session.state == "diverged":
            self.error.value = f"<div style='color:#b71c1c'>⚠ {html.escape(session.message)}</div>"
        else:
            self.error.value = (f"<span style='{MUTED}'>{html.escape(session.state)}: "
                                f"{html.escape(session.message)}</span>")


class ConfusionMatrix(anywidget.AnyWidget):
    """Clickable confusion matrix; ``selected`` is the clicked cell [true, predicted]."""

    _esm = asset("confusion.js")
    _css = asset("confusion.css")
    matrix = t.List().tag(sync=True)
    labels = t.List().tag(sync=True)
    selected = t.List().tag(sync=True)


class EvaluatePanel:
    """Metrics, clickable confusion matrix, per-class scores, cell samples, top losses, k-fold CV."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.run: Run | None = None
        self._pending = False
        self.metrics = W.HTML(f"<p style='{MUTED}'>Train a run to see its evaluation here.</p>")
        self.confusion = ConfusionMatrix()
        self.confusion.observe(self._cell_selected, names="selected")
        self.cell_title = W.HTML()
        self.cell_html = W.HTML()
        self.cell_png = W.Image(format="png", layout=W.Layout(display="none"))
        self.per_class = W.HTML()
        self.per_class_png = W.Image(format="png", layout=W.Layout(display="none"))
        self.top_title = W.HTML()
        self.top_html = W.HTML()
        self.top_png = W.Image(format="png", layout=W.Layout(display="none"))
        self.cv_button = button("Cross-validate", icon="th", tooltip="k-fold CV in the background")
        self.cv_stop = button("Stop CV", icon="stop", disabled=True)
        self.cv_status = W.HTML()
        self.cv_result_html = W.HTML()
        self.cv_png = W.Image(format="png", layout=W.Layout(display="none"))
        self.cv_result: CVResult | None = None
        self.cv_control = Control()
        self.cv_task = Latest(self._cv_work, self._cv_done, self._cv_failed, name="lepton_nb-cv")
        self.cv_button.on_click(lambda _: self.start_cv())
        self.cv_stop.on_click(lambda _: self.cv_control.stop())
        self.box = W.VBox([
            W.HBox([W.VBox([W.HTML("<h4>Test metrics</h4>"), self.metrics], layout=W.Layout(flex="1 1 30%")),
                    W.VBox([W.HTML("<h4>Confusion matrix</h4><p style='font-size:11px;color:var(--jp-ui-font-color2,"
                                   "#666)'>Click a cell to see those samples.</p>"), self.confusion],
                           layout=W.Layout(flex="1 1 70%"))], layout=W.Layout(flex_flow="row wrap")),
            self.cell_title, self.cell_png, self.cell_html,
            W.HTML("<h4>Per class</h4>"), self.per_class_png, self.per_class,
            self.top_title, self.top_png, self.top_html,
            W.HTML("<h4>k-fold cross-validation</h4>"), studio.form.sections["evaluate"].box,
            W.HBox([self.cv_button, self.cv_stop]), self.cv_status, self.cv_png, self.cv_result_html,
        ])

    # ---- a finished run ----------------------------------------------------------------------

    def show_run(self, run: Run, visible: bool = True) -> None:
        """Show a finished run; rendering waits until the panel is visible (``render_pending``)."""
        self.run = run
        self._pending = not visible
        if visible:
            self._render()

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
        rows = [{"metric": k, "value": v} for k, v in run.metrics.items()]
        self.metrics.value = (f"<p style='{MUTED}'>{html.escape(run.name)} · {html.escape(run.status)} · "
                              f"{len(ev.y_true)} test samples</p>" + table_html(rows, left=("metric",)))
        self.confusion.matrix = ev.confusion.tolist()
        self.confusion.labels = list(ev.classes)
        wrong = ev.misclassified()
        if len(wrong):
            true, pred = worst_cell(ev)
            self.confusion.selected = [int(true), int(pred)]
        else:
            self.confusion.selected = []
            self.cell_title.value = "<p>No misclassified test samples.</p>"
            self.cell_html.value = ""
            set_png(self.cell_png, None)
        fig = new_figure(max(6, 0.5 * len(ev.classes) + 2), 2.8)
        plot_per_class(fig.subplots(), ev.per_class)
        set_png(self.per_class_png, to_png(fig))
        self.per_class.value = table_html(ev.per_class, left=("class",))
        k = max(1, run.recipe.evaluate.top_losses)
        top = ev.top_losses(k)
        self.top_title.value = (f"<h4>Top {len(top)} losses</h4><p style='font-size:11px'>true → predicted "
                                f"(confidence)</p>")
        text, png = sample_view(run.data, "test", top, _titles(ev, top), ["#c62828" if ev.y_true[i] != ev.y_pred[i]
                                                                          else "#2e7d32" for i in top])
        self.top_html.value = text
        set_png(self.top_png, png)

    def _cell_selected(self, change: Any) -> None:
        run = self.run
        if run is None or run.evaluation is None or run.data is None or len(change["new"]) != 2:
            return
        ev = run.evaluation
        true, pred = change["new"]
        idx = ev.cell(true, pred)
        order = idx[np.argsort(-ev.losses[idx], kind="stable")][:32]
        verb = "correctly classified" if true == pred else f"predicted as {ev.classes[pred]}"
        self.cell_title.value = (f"<h4>{len(idx)} test sample(s) of class {html.escape(ev.classes[true])} "
                                 f"{html.escape(verb)}</h4>" + (f"<p style='{MUTED}'>showing {len(order)}, highest "
                                                                "loss first</p>" if len(idx) > len(order) else ""))
        text, png = sample_view(run.data, "test", order, _titles(ev, order))
        self.cell_html.value = text
        set_png(self.cell_png, png)

    # ---- cross-validation --------------------------------------------------------------------

    def start_cv(self) -> bool:
        recipe = self.studio.form.validate()
        if recipe is None:
            self.cv_status.value = error_html(ValueError("fix the recipe first (see the problems shown)"))
            return False
        if not self.studio.claim_job("cross-validation"):
            self.cv_status.value = error_html(ValueError(self.studio.job_message))
            return False
        self.cv_control = Control()
        self.cv_button.disabled, self.cv_stop.disabled = True, False
        self.cv_status.value = f"<span style='{MUTED}'>{recipe.evaluate.cv_folds}-fold CV running…</span>"
        self.cv_task(recipe)
        return True

    def _cv_work(self, recipe: Recipe) -> CVResult:
        folds = recipe.evaluate.cv_folds

        def on_fold(i: int, metrics: dict[str, float]) -> None:
            self.cv_status.value = (f"<span style='{MUTED}'>fold {i + 1}/{folds}: accuracy "
                                    f"{metrics.get('accuracy', float('nan')):.4f}</span>")

        return cross_validate(recipe, folds, control=self.cv_control, on_fold=on_fold)

    def _cv_done(self, result: CVResult) -> None:
        self.studio.release_job()
        self.cv_result = result
        self.cv_button.disabled, self.cv_stop.disabled = False, True
        if not result.folds:
            self.cv_status.value = f"<span style='{MUTED}'>stopped before the first fold finished</span>"
            return
        rows = [{"metric": k, "mean": result.mean[k], "± std": result.std[k]} for k in result.mean]
        self.cv_status.value = f"{len(result.folds)} folds, {html.escape(result.status)}"
        self.cv_result_html.value = table_html(rows, left=("metric",)) + table_html(
            [{"fold": i + 1, **f} for i, f in enumerate(result.folds)])
        fig = new_figure(4.5, 2.4)
        plot_cv(fig.subplots(), result.folds, "accuracy" if "accuracy" in result.mean else next(iter(result.mean)))
        set_png(self.cv_png, to_png(fig))

    def _cv_failed(self, exc: BaseException, tb: str) -> None:
        self.studio.release_job()
        self.cv_button.disabled, self.cv_stop.disabled = False, True
        self.cv_status.value = error_html(exc, tb)


def worst_cell(ev: EvalResult) -> tuple[int, int]:
    """The off-diagonal cell with the most samples (what a teacher would look at first)."""
    off = ev.confusion.copy()
    np.fill_diagonal(off, -1)
    i, j = np.unravel_index(int(np.argmax(off)), off.shape)
    return int(i), int(j)


def _titles(ev: EvalResult, idx: Any) -> list[str]:
    return [f"{ev.classes[ev.y_true[i]]}→{ev.classes[ev.y_pred[i]]} ({ev.probs[i].max():.2f})" for i in idx]


def download_link(data: bytes, filename: str, label: str, mime: str) -> str:
    """A link that downloads ``data`` from the page itself (works on Binder, no server paths needed)."""
    b64 = base64.b64encode(data).decode()
    return (f"<a download='{html.escape(filename)}' href='data:{mime};base64,{b64}' "
            f"style='margin-right:12px'>⬇ {html.escape(label)}</a>")


class RunsPanel:
    """Every run of this kernel: compare, overlay curves, export recipe and report, load a recipe back."""

    def __init__(self, studio: Studio):
        self.studio = studio
        self.table = W.HTML(f"<p style='{MUTED}'>No runs yet.</p>")
        self.visible = False
        self.select = W.SelectMultiple(options=[], rows=6, description="runs", layout=W.Layout(width="420px"))
        self.select.observe(lambda _: self.overlay() if self.visible else None, names="value")
        self.overlay_png = W.Image(format="png", layout=W.Layout(display="none"))
        self.load_button = button("Load recipe into panels", icon="upload",
                                  tooltip="Put the first selected run's recipe into every panel")
        self.export_button = button("Export", icon="download",
                                    tooltip="Recipe (JSON), HTML report and command line of the first selected run")
        self.upload = W.FileUpload(accept=".json,.yaml,.yml", multiple=False, description="Open recipe file")
        self.load_button.on_click(lambda _: self.load_selected())
        self.export_button.on_click(lambda _: self.export_selected())
        self.upload.observe(self._uploaded, names="value")
        self.links = W.HTML()
        self.command = W.HTML()
        self.deploy = DeployTools(studio, self)
        self.box = W.VBox([
            self.table,
            W.HBox([self.select, W.VBox([self.load_button, self.export_button, self.upload])]),
            self.links, self.command, W.HTML("<h4>Compare</h4>"), self.overlay_png, self.deploy.box,
        ])

    def refresh(self, visible: bool = True) -> None:
        """List the runs; the overlay figure is drawn when the panel is visible."""
        runs = self.studio.runs
        if not runs:
            return
        self.visible = visible
        self.table.value = table_html([r.summary_row() for r in runs], left=("run", "status", "source", "arch"))
        labels = [(f"{r.name} · {r.status}", i) for i, r in enumerate(runs)]
        selected = self.select.value
        self.select.options = labels
        self.select.value = tuple(v for v in selected if v < len(runs)) or (len(runs) - 1,)

    def selected_runs(self) -> list[Run]:
        return [self.studio.runs[i] for i in self.select.value if i < len(self.studio.runs)]

    def overlay(self) -> None:
        runs = self.selected_runs()
        if not runs:
            set_png(self.overlay_png, None)
            return
        fig = new_figure(11, 3.0)
        axes = fig.subplots(1, 3)
        for k, run in enumerate(runs):
            color = f"C{k % 10}"
            for ax, name in zip(axes, ("train/loss", "val_loss", "val_accuracy")):
                x, y = run.history.decimated(name, 1000)
                if len(x):
                    ax.plot(x, y, color=color, lw=1.2, marker="o" if name != "train/loss" else None, ms=2,
                            label=run.name, alpha=0.8)
        for ax, title in zip(axes, ("train loss (per batch)", "validation loss", "validation accuracy")):
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        if axes[0].lines:
            axes[0].legend(fontsize=7)
        set_png(self.overlay_png, to_png(fig))

    def load_selected(self) -> None:
        runs = self.selected_runs()
        if runs:
            self.studio.load_recipe(runs[0].recipe)

    def export_selected(self) -> str:
        runs = self.selected_runs()
        if not runs:
            return ""
        run = runs[0]
        recipe_json = run.recipe.to_json().encode()
        links = download_link(recipe_json, f"{run.recipe.name}.recipe.json", "recipe (JSON)", "application/json")
        report_note = ""
        if run.dir is not None:
            report = run.report() if not (run.dir / "report.html").exists() else run.dir / "report.html"
            links += download_link(report.read_bytes(), f"{run.name}.report.html", "HTML report", "text/html")
            report_note = f"<br><span style='{MUTED}'>files: {html.escape(str(run.dir))}</span>"
        self.links.value = links + report_note
        self.command.value = (f"<p>Run it headless: save the recipe, then<br><code>lepton-nb run "
                              f"{html.escape(run.recipe.name)}.recipe.json</code> (more processes: the command "
                              f"line tool below)</p>")
        return self.links.value

    def _uploaded(self, change: Any) -> None:
        files = change["new"]
        if not files:
            return
        item = files[0]
        name = item["name"] if isinstance(item, dict) else item.name
        content = bytes(item["content"] if isinstance(item, dict) else item.content)
        try:
            if name.lower().endswith((".yaml", ".yml")):
                import yaml

                recipe = Recipe.from_dict(yaml.safe_load(content.decode("utf-8")))
            else:
                recipe = Recipe.from_dict(json.loads(content.decode("utf-8")))
        except Exception as exc:  # any bad file: shown, never raised into the kernel
            self.links.value = error_html(exc)
            return
        self.studio.load_recipe(recipe)
        self.links.value = f"<span style='{MUTED}'>loaded {html.escape(name)} into the panels</span>"


def snapshot_html(run: Run) -> str:
    """A static summary of a finished run (curves + metrics) for the saved notebook."""
    from ..report import curves_png

    rows = [{"metric": k, "value": v} for k, v in run.metrics.items()]
    color = {"completed": "#1b5e20", "error": "#b71c1c", "diverged": "#b71c1c"}.get(run.status, "#8d6e00")
    return (f"<div class='lnb-snapshot' style='font-family:system-ui,sans-serif;font-size:12px'>"
            f"<b>lepton_nb · {html.escape(run.name)}</b> · <span style='color:{color};font-weight:600'>"
            f"{html.escape(run.status)}</span> · {html.escape(run.recipe.summary())} · {run.epochs_done} epoch(s), "
            f"{run.seconds:.1f} s<br>{png_img(curves_png(run), 'training curves')}"
            f"{table_html(rows, left=('metric',))}</div>")


class DeployTools:
    """Beyond the notebook: export for deployment, quantize/prune, ensembles, the torchrun command line."""

    def __init__(self, studio: Studio, runs: RunsPanel):
        self.studio, self.runs = studio, runs
        self.format = W.Dropdown(options=[("ONNX", "onnx"), ("TorchScript", "torchscript")], value="onnx",
                                 layout=W.Layout(width="130px"))
        self.export_button = button("Export model", icon="cube",
                                    tooltip="Export the first selected run and check it against PyTorch")
        self.prune = W.FloatSlider(value=0.5, min=0.1, max=0.95, step=0.05, description="prune",
                                   style={"description_width": "50px"}, layout=W.Layout(width="240px"))
        self.optimize_button = button("Quantize & prune", icon="compress",
                                      tooltip="int8 dynamic quantization and magnitude pruning: size, "
                                              "latency and accuracy before/after")
        self.ensemble_button = button("Ensemble selected", icon="object-group",
                                      tooltip="Average the predicted probabilities of the selected runs")
        self.nproc = W.BoundedIntText(value=2, min=1, max=512, description="processes",
                                      style={"description_width": "70px"}, layout=W.Layout(width="160px"))
        self.command_button = button("Command line", icon="terminal",
                                     tooltip="torchrun command for the recipe in the panels")
        self.output = W.HTML()
        self.control = Control()
        self.task = Latest(lambda fn: fn(), self._done, self._failed, name="lepton_nb-deploy")
        self.export_button.on_click(lambda _: self.export())
        self.optimize_button.on_click(lambda _: self.optimize())
        self.ensemble_button.on_click(lambda _: self.ensemble())
        self.command_button.on_click(lambda _: self.command_line())
        self.box = W.VBox([
            W.HTML("<h4>Deploy and optimize</h4>"),
            W.HBox([self.format, self.export_button, self.prune, self.optimize_button, self.ensemble_button]),
            W.HBox([self.nproc, self.command_button]), self.output,
        ])

    def _first(self) -> Run | None:
        runs = self.runs.selected_runs()
        if not runs:
            self.output.value = error_html(ValueError("select a run in the list above"))
        return runs[0] if runs else None

    @staticmethod
    def _usable(run: Run) -> Any:
        """The run itself, or reloaded from its folder when its model was released to save memory."""
        if run.model is not None:
            return run
        if run.dir is None:
            raise ValueError(f"run {run.name!r} kept no folder and its model was released; train it again with "
                             "an output folder (Studio(out='runs'))")
        from ..deploy import load_run

        return load_run(run.dir)

    def _start(self, label: str, fn: Any) -> None:
        self.output.value = f"<span style='{MUTED}'>{html.escape(label)}…</span>"
        self.task(fn)

    def export(self) -> None:
        from ..deploy import export

        run = self._first()
        if run is not None:
            fmt = self.format.value
            self._start(f"exporting {run.name} to {fmt}", lambda: ("export", export(self._usable(run), fmt)))

    def optimize(self) -> None:
        from ..optimize import optimize

        run = self._first()
        if run is not None:
            self.control = Control()
            amount = round(self.prune.value, 2)
            self._start(f"quantizing and pruning {run.name}",
                        lambda: ("optimize", optimize(self._usable(run), quantize=True, prune=[amount],
                                                      control=self.control)))

    def ensemble(self) -> None:
        from ..ensemble import ensemble

        runs = self.runs.selected_runs()
        if len(runs) < 2:
            self.output.value = error_html(ValueError("select two or more runs (ctrl/shift-click) to ensemble"))
            return
        self.control = Control()
        self._start(f"evaluating an ensemble of {len(runs)} runs",
                    lambda: ("ensemble", ensemble([self._usable(r) for r in runs], control=self.control)))

    def command_line(self) -> str:
        from ..distributed import launch_command

        recipe = self.studio.recipe
        try:
            cmd = launch_command(recipe, self.nproc.value, recipe_path=f"{recipe.name}.recipe.json")
        except Exception as exc:  # an invalid process count or batch size: shown, not raised
            self.output.value = error_html(exc)
            return ""
        link = download_link(recipe.to_json().encode(), f"{recipe.name}.recipe.json", "the recipe (JSON)",
                             "application/json")
        notes = "".join(f"<li>{html.escape(n)}</li>" for n in cmd.notes)
        self.output.value = (f"<p>Save {link}, then run:</p><pre>{html.escape(cmd.text)}</pre><ul>{notes}</ul>")
        return cmd.text

    def _done(self, result: tuple[str, Any]) -> None:
        kind, value = result
        rows = value.rows()
        body = table_html(rows, left=tuple(k for k in rows[0] if isinstance(rows[0][k], str)) if rows else ())
        extra = ""
        if kind == "export":
            path = value.path
            if path.stat().st_size <= 25 * 1024**2:
                extra = download_link(path.read_bytes(), path.name, f"{path.name} ({path.stat().st_size // 1024} KB)",
                                      "application/octet-stream")
            extra += f"<br><span style='{MUTED}'>{html.escape(str(path))}</span>"
        self.output.value = body + extra

    def _failed(self, exc: BaseException, tb: str) -> None:
        self.output.value = error_html(exc, tb)
