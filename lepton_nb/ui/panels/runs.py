"""The Runs tab: every run of the kernel, overlaid curves, recipe/report export, loading a recipe back."""

from __future__ import annotations

import html
import json
from typing import Any

import ipywidgets as W

from ...artifacts import Run
from ...artifacts.transfer import is_transfer, transfer_row
from ...plotting import new_figure, to_png
from ...recipe import DATA_KINDS, Recipe
from ...recipe.diff import NO_EFFECT_ON_TRAINING, differences
from ..access import Picture, labelled
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, download_link, error_html, set_png, table_html
from ..tasks import Latest
from .base import EVERYTHING, Tab
from .deploy import DeployTools


def _last(run: Run) -> str:
    """The last validation values of a run, in words (an image's text alternative)."""
    parts = []
    for name, words in (("val_loss", "validation loss"), ("val_accuracy", "validation accuracy")):
        _, y = run.history.series(name)
        if len(y):
            parts.append(f"last {words} {float(y[-1]):.3g}")
    return ", ".join(parts) or "no validation values"


class RunsPanel(Tab):
    """Every run of this kernel: compare, overlay curves, export recipe and report, load a recipe back."""

    title, key = "Runs", "runs"

    def __init__(self, ctx: StudioContext):
        self.ctx = ctx
        self.table = W.HTML(f"<p style='{MUTED}'>No runs yet.</p>")
        self.transfer = W.HTML()
        self.visible = False
        self.select = labelled(W.SelectMultiple(options=[], rows=6), "runs", label_width="50px", input_width="370px")
        self.select_hint = W.HTML(f"<span style='{MUTED}'>Select several runs to compare them (Ctrl/⌘-click or "
                                  "Shift-click); the legend names what differs between them.</span>")
        self.select.observe(lambda _: self.overlay() if self.visible else None, names="value")
        self.overlay_png = Picture(format="png", layout=W.Layout(display="none"))
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
        self.deploy = DeployTools(ctx, self.selected_runs)
        self.box = W.VBox([
            self.table, self.transfer,
            W.HBox([W.VBox([self.select, self.select_hint], layout=W.Layout(width="440px")),
                    W.VBox([self.load_button, self.export_button, self.upload])]),
            self.links, self.command, W.HTML("<h4>Compare</h4>"), self.overlay_png, self.deploy.box,
        ])

    def tasks(self) -> tuple[Latest, ...]:
        return (self.deploy.task,)

    def stop(self) -> None:
        self.deploy.control.stop()

    def refresh(self, recipe: Recipe | None, changed: frozenset[str] = EVERYTHING) -> None:
        if "runs" in changed:  # a panel listed a run (a search trial)
            self.relist(visible=self.ctx.shown is self)

    def show_run(self, run: Run, visible: bool = True) -> None:
        self.relist(visible)

    def shown(self) -> None:
        self.visible = True
        self.overlay()

    def relist(self, visible: bool = True) -> None:
        """List the runs; the overlay figure is drawn when the panel is visible."""
        runs = self.ctx.runs
        if not runs:
            return
        self.visible = visible
        self.table.value = table_html([r.summary_row() for r in runs], left=("run", "status", "source", "arch"))
        self.transfer.value = transfer_html(runs)
        labels = [(f"{r.name} · {r.status}", i) for i, r in enumerate(runs)]
        chosen = tuple(v for v in self.select.value if v < len(runs))
        newest = len(runs) - 1
        self.select.options = labels
        # the newest run is selected; a comparison of several runs the user chose keeps them and adds it
        self.select.value = tuple(dict.fromkeys((*chosen, newest))) if len(chosen) > 1 else (newest,)

    def selected_runs(self) -> list[Run]:
        return [self.ctx.runs[i] for i in self.select.value if i < len(self.ctx.runs)]

    def overlay(self) -> None:
        runs = self.selected_runs()
        if not runs:
            set_png(self.overlay_png, None, "")
            return
        fig = new_figure(11, 3.0)
        axes = fig.subplots(1, 3)
        for k, (run, label) in enumerate(zip(runs, self.legend_labels(runs))):
            color = f"C{k % 10}"
            for ax, name in zip(axes, ("batch_loss", "val_loss", "val_accuracy")):
                x, y = run.history.decimated(name, 1000)
                if len(x):
                    ax.plot(x, y, color=color, lw=1.2, marker="o" if name != "batch_loss" else None, ms=2,
                            label=label, alpha=0.8)
        for ax, title in zip(axes, ("train loss (per batch)", "validation loss", "validation accuracy")):
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("step")
            ax.grid(alpha=0.3)
        if axes[0].lines:
            axes[0].legend(fontsize=7)
        set_png(self.overlay_png, to_png(fig), f"train loss per batch, validation loss and validation accuracy by step "
                f"of {len(runs)} run(s): " + "; ".join(f"{label}: {_last(run)}" for run, label in
                                                       zip(runs, self.legend_labels(runs))))

    @staticmethod
    def legend_labels(runs: list[Run]) -> list[str]:
        """What differs between the runs' recipes in what they train (``lr=0.005``; not how they are evaluated or
        named); their names when they train alike."""
        diffs = (differences([r.recipe for r in runs], ignore=NO_EFFECT_ON_TRAINING) if len(runs) > 1
                 else [""] * len(runs))
        names = [r.recipe.name for r in runs]
        return [d or (r.name if names.count(r.recipe.name) == 1 or len(runs) == 1 else f"{r.name} (same training)")
                for r, d in zip(runs, diffs)]

    def load_selected(self) -> None:
        runs = self.selected_runs()
        if runs:
            self.ctx.load_recipe(runs[0].recipe)

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
        self.ctx.load_recipe(recipe)
        self.links.value = f"<span style='{MUTED}'>loaded {html.escape(name)} into the panels</span>"


def transfer_html(runs: list[Run]) -> str:
    """Pretraining, fine-tuning and LoRA side by side with training from scratch ('' until a run used one):
    what trained, how many parameters that is, accuracy, time and checkpoint size."""
    if not any(is_transfer(r) for r in runs):
        return ""
    rows = [transfer_row(r) for r in runs if DATA_KINDS[r.recipe.kind].tokens or is_transfer(r)]
    return ("<h4>From scratch, pretrained + fine-tuned, LoRA</h4>"
            f"<p style='{MUTED}'>trainable: parameters that learned in this run (share of all); accuracy: on the "
            "test split (pretraining: of the hidden words it predicted); checkpoint: size on disk.</p>"
            + table_html(rows, left=("run", "start")))
