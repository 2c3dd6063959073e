"""The training studio: one displayed object to configure, train, watch, evaluate and compare.

``lnb.Studio()`` in a notebook. Training runs in a warm training process (or a thread); the live monitor (an
anywidget) is fed a few times per second with only the new points. Every button has a programmatic twin.

The studio only composes: the form, the live monitor, a `LiveRun` and `PANELS`, one ordered tuple of tab
classes, each given the same narrow `StudioContext` and told the same things (`lepton_nb.ui.panels.base.Panel`).
Adding a tab is one entry in `PANELS`.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..artifacts import Run
from ..data import DataBundle
from ..errors import Problem
from ..recipe import Recipe
from ..warmup import join_warm_up
from ..workflows import as_recipe, open_session
from ..workflows.session.launch import in_kernel
from .context import StudioContext
from .display import StudioDisplay
from .forms import RecipeForm
from .iopub import keep_iopub_lossless
from .live_run import LiveRun
from .midrun import apply_locks
from .panels.augment import AugmentPanel
from .panels.base import Panel
from .panels.data import DataPanel
from .panels.evaluate import EvaluatePanel
from .panels.interpret import InterpretPanel
from .panels.model import ModelPanel
from .panels.robustness import RobustnessPanel
from .panels.runs import RunsPanel
from .panels.search import SearchPanel
from .panels.train import TrainPanel
from .readiness import show_readiness
from .render import header_html
from .snapshot import Snapshot
from .views.live import LiveFeed, LiveMonitor

#: the tabs, in order: each class has its ``title`` and ``key`` (``studio.<key>_panel``)
PANELS = (DataPanel, AugmentPanel, ModelPanel, TrainPanel, EvaluatePanel, InterpretPanel, RobustnessPanel,
          SearchPanel, RunsPanel)
TABS = tuple(panel.title for panel in PANELS)
SECTIONS = tuple(Recipe.__dataclass_fields__)  # name, data, normalize, ... search


class Studio:
    """Configure a recipe in panels, train it in the background, watch it live, evaluate and compare runs.

    ``keep_models`` finished runs keep their model and data in memory; older runs keep their recipe, history and
    metrics, so a kernel that trains many runs stays lean. ``worker``: ``"process"`` (default: a warm training
    process, see `WorkerSession`) or ``"thread"`` (a thread of the kernel, where processes cannot start).
    """

    def __init__(self, recipe: Recipe | dict | str | Path | None = None, *, out: str | Path | None = "runs",
                 hz: float = 4.0, keep_models: int = 1, worker: str | None = None):
        self.session = open_session(worker, out)
        if in_kernel():  # displayed next: the training process imports torch while the panels are built (2 cores)
            self.session.warm_up()
            keep_iopub_lossless()  # ~3,300 widget comms open next: a busy server must not drop any (iopub.py)
        self.out, self.hz, self.keep_models = out, hz, keep_models
        self.form = RecipeForm(as_recipe(recipe), skip={"augment": ("ops",), "search": ("space",)})
        self.ctx = StudioContext(self.form, self.session, out)
        self.monitor = LiveMonitor()
        self.snapshots = Snapshot()  # the last run's summary under the studio (see `snapshot`)
        self.panels: tuple[Panel, ...] = tuple(cls(self.ctx) for cls in PANELS)
        self.live = LiveRun(self.ctx, self.monitor, self.panels, hz, keep_models, self.snapshots)
        self.display = StudioDisplay(self)
        self.tabs = W.Tab(children=[p.box for p in self.panels], titles=[p.title for p in self.panels])
        self.tabs.observe(self._tab_selected, names="selected_index")
        self.header, self.lock_note = W.HTML(), W.HTML()
        self.widget = W.VBox([self.header, self.monitor, self.lock_note, self.form.general_problems, self.tabs])
        self.widget.add_class("lnb-studio")
        self.monitor.on_command("start", lambda: self.start(force=True))  # a click is the user's own choice
        self.monitor.on_new_page(self.display.new_page)  # a reload after a run: say what the summary may lack
        for name, command in (("pause", self.pause), ("resume", self.resume), ("stop", self.stop)):
            self.monitor.on_command(name, command)
        self.ctx.start, self.ctx.notify, self.ctx.shown = self.start, self._notify, self.panels[0]
        self.ctx.show_job = self.monitor.show_job  # what a panel's job (a search) says in the monitor
        self.ctx.loader.on_change = self._notify
        self._shown: dict[str, str] = {}  # each section's values as the panels last drew them
        self.session.on_state(lambda state: apply_locks(self.form, self.session, state, self.lock_note,
                                                        self.recipe.train))
        self.form.on_change(self._recipe_changed)
        self._recipe_changed(self.form.validate(), self.form.problems)

    def __getattr__(self, name: str) -> Any:
        """``studio.<key>_panel``: the panel of that tab (e.g. ``studio.train_panel``)."""
        for panel in self.__dict__.get("panels", ()):
            if name == f"{panel.key}_panel":
                return panel
        raise AttributeError(f"'Studio' object has no attribute {name!r}")

    @property
    def recipe(self) -> Recipe:
        """The recipe the panels show (the last valid one while a field is invalid; see ``problems``)."""
        return self.form.recipe

    @property
    def problems(self) -> list[Problem]:
        return self.form.problems

    @property
    def runs(self) -> list[Run]:
        return self.ctx.runs

    @property
    def run(self) -> Run | None:
        """The latest finished run."""
        return self.runs[-1] if self.runs else None

    @property
    def data(self) -> DataBundle | None:
        return self.ctx.data

    @property
    def feed(self) -> LiveFeed | None:
        return self.live.feed

    def load_recipe(self, recipe: Recipe | dict | str | Path) -> None:
        """Put a recipe into every panel (from a run, a file or a dict)."""
        self.ctx.load_recipe(recipe)

    def update(self, changes: dict[str, Any] | None = None, **dotted: Any) -> Recipe:
        """Change recipe values by dotted key, as if typed into the panels: ``studio.update({"train.lr": 0.01})``."""
        recipe = self.recipe.updated(changes, **dotted)
        self.load_recipe(recipe)
        return recipe

    def load_data(self) -> None:
        """(Re)load the data section's dataset in the background."""
        self.ctx.load_data()

    def wait_data(self, timeout: float | None = 60) -> DataBundle | None:
        """Block until the data has loaded and the panels drew it: a Start right after it competes with nothing."""
        end = None if timeout is None else time.monotonic() + timeout
        self.ctx.loader.wait(timeout)
        for panel in self.panels:
            panel.wait(None if end is None else max(0.0, end - time.monotonic()))
        return self.data

    def data_for(self, recipe: Recipe) -> DataBundle | None:
        return self.ctx.data_for(recipe)

    def _notify(self, what: str) -> None:
        """Tell every panel that the data is ``loading``, ``loaded`` or ``failed``, or that ``runs`` changed."""
        if what == "loaded":  # every panel draws the data and the recipe it was loaded for
            self._shown.update({k: json.dumps(v, sort_keys=True) for k, v in self.form.values().items()})
        for panel in self.panels:
            panel.refresh(self.form.recipe if not self.form.problems else None, frozenset({what}))
        if what in ("loaded", "failed"):  # Start trains once the data loads, and says why not when it did not
            show_readiness(self.monitor, self.problems, self.ctx.loader.error, reloaded=not self.session.busy)

    def _recipe_changed(self, recipe: Recipe | None, problems: list[Problem]) -> None:
        self.header.value = header_html(recipe)
        values = self.form.values()
        if self.ctx.loader.stale(values):
            self.ctx.loader.load(values)
        show_readiness(self.monitor, problems if recipe is None else [], self.ctx.loader.error)  # after a load began
        # re-render only what an edit changed: validation also runs on Start, mid-run work costs time
        changed = frozenset(s for s in SECTIONS if self._shown.get(s) != json.dumps(values[s], sort_keys=True))
        self._shown.update({s: json.dumps(values[s], sort_keys=True) for s in changed})
        if changed and self.data is not None:
            for panel in self.panels:
                panel.refresh(recipe, changed)

    def start(self, force: bool = False, stage: str = "train") -> bool:
        """Start training the panels' recipe in the background; see `LiveRun.start`."""
        return self.live.start(force, stage)

    def pause(self) -> None:
        self.session.pause()

    def resume(self) -> dict[str, Any]:
        """Run on; mid-run fields edited while paused apply from the next batch (see `LiveRun.resume`)."""
        return self.live.resume()

    def pending_changes(self) -> dict[str, Any]:
        return self.live.pending_changes()

    def stop(self) -> None:
        """Stop the run and every panel's background work."""
        self.session.stop()
        for panel in self.panels:
            panel.stop()

    def wait(self, timeout: float | None = None, panels: bool = True) -> bool:
        """Block until the run has ended, is listed and (``panels``) shown in the panels: True; False on timeout."""
        return self.live.wait(timeout, panels)

    def find_lr(self, wait: bool = True, timeout: float = 120) -> Any:
        """Run the LR finder (as its button does); returns the result when ``wait``."""
        return self.train_panel.find_lr_twin(wait, timeout)

    def pretrain(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Pretrain the text encoder (as the Training tab's button does); returns its `Run` when ``wait``."""
        if self.train_panel.pretrain.start() and wait:
            self.wait(timeout)
            return self.run
        return None

    def cross_validate(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Start k-fold CV (as its button does); returns the CVResult when ``wait``."""
        return self.evaluate_panel.cross_validate_twin(wait, timeout)

    def search(self, wait: bool = True, timeout: float | None = None) -> Any:
        """Start the search of the Search tab (as its button does); returns the `Study` when ``wait``."""
        return self.search_panel.search_twin(wait, timeout)

    def _tab_selected(self, change: Any) -> None:
        """Figures of hidden panels are drawn when their tab is first shown (less work after each run)."""
        self.ctx.shown = self.panels[change["new"]]
        self.panels[change["new"]].shown()

    def show_tab(self, name: str) -> None:
        """Select a tab by name (``"Evaluation"``, ``"Runs"``, ...)."""
        self.tabs.selected_index = TABS.index(name)

    def _ipython_display_(self) -> None:
        self.display.jupyter()

    def _display_(self) -> Any:
        return self.display.marimo()

    def snapshot(self) -> None:
        """Show the last run's summary in this cell (see `StudioDisplay.snapshot`)."""
        self.display.snapshot()

    def close(self, timeout: float = 60.0) -> None:
        """Stop all background work and wait for its threads (none is left inside torch when the process exits),
        end the training process, close the widgets."""
        self.stop()
        for panel in self.panels:
            panel.close(timeout)
        self.session.wait(timeout)
        self.session.close()
        self.live.close(timeout)
        self.ctx.loader.close(timeout)
        join_warm_up(timeout)  # its imports run inside torch too
        self.widget.close()
        self.monitor.close()

