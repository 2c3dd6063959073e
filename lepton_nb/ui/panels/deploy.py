"""Deployment tools of the Runs tab: export, quantize and prune, ensembles, the torchrun command line."""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

import ipywidgets as W

from ...artifacts import Run, load_run
from ...tools import ensemble, export, launch_command, optimize
from ...training.control import Control
from ..access import labelled, number
from ..context import StudioContext
from ..forms import button
from ..render import MUTED, download_link, error_html, table_html
from ..tasks import Latest


class DeployTools:
    """Beyond the notebook: export for deployment, quantize/prune, ensembles, the torchrun command line."""

    def __init__(self, ctx: StudioContext, selected: Callable[[], list[Run]]):
        self.ctx, self.selected = ctx, selected
        self.format = labelled(W.Dropdown(options=[("ONNX", "onnx"), ("TorchScript", "torchscript")], value="onnx"),
                               "format", label_width=None, input_width=None)
        self.format.layout.width = "190px"
        self.export_button = button("Export model", icon="cube",
                                    tooltip="Export the first selected run and check it against PyTorch")
        self.prune = number(0.5, "prune", lo=0.1, hi=0.95, tooltip="share of weights pruned",
                            label_width="50px", input_width="90px")
        self.optimize_button = button("Quantize & prune", icon="compress",
                                      tooltip="int8 dynamic quantization and magnitude pruning: size, "
                                              "latency and accuracy before/after")
        self.ensemble_button = button("Ensemble selected", icon="object-group",
                                      tooltip="Average the predicted probabilities of the selected runs")
        self.nproc = number(2, "processes", lo=1, hi=512, integer=True, label_width="70px", input_width="90px")
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
        runs = self.selected()
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
        return load_run(run.dir)

    def _start(self, label: str, fn: Any) -> None:
        self.output.value = f"<span style='{MUTED}'>{html.escape(label)}…</span>"
        self.task(fn)

    def export(self) -> None:
        run = self._first()
        if run is not None:
            fmt = self.format.value
            self._start(f"exporting {run.name} to {fmt}", lambda: ("export", export(self._usable(run), fmt)))

    def optimize(self) -> None:
        run = self._first()
        if run is not None:
            self.control = Control()
            amount = round(self.prune.value, 2)
            self._start(f"quantizing and pruning {run.name}",
                        lambda: ("optimize", optimize(self._usable(run), quantize=True, prune=[amount],
                                                      control=self.control)))

    def ensemble(self) -> None:
        runs = self.selected()
        if len(runs) < 2:
            self.output.value = error_html(ValueError("select two or more runs (ctrl/shift-click) to ensemble"))
            return
        self.control = Control()
        self._start(f"evaluating an ensemble of {len(runs)} runs",
                    lambda: ("ensemble", ensemble([self._usable(r) for r in runs], control=self.control)))

    def command_line(self) -> str:
        recipe = self.ctx.recipe
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
