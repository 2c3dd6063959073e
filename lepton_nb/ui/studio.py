"""The training studio: one displayed object to configure, train, watch, evaluate and compare.

``lnb.Studio()`` in a notebook. Training runs in a warm worker process (or a thread); the live monitor (an
anywidget) is fed a few times per second with only the new points. Every button has a programmatic twin.
"""

from __future__ import annotations

import html
import json
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as W

from ..artifacts import Run
from ..data import DataBundle, build_data
from ..errors import LeptonError, Problem
from ..recipe import ARCHS_FOR_KIND, SOURCE_KIND, Recipe
from ..spawn import in_kernel
from ..training.events import Changed
from ..warmup import join_warm_up
from ..workflows import as_recipe, open_session
from .assets import in_dashboard
from .display import StudioDisplay
from .forms import RecipeForm
from .iopub import keep_iopub_lossless
from .midrun import apply_locks, change_marks, mid_run_values, pending_changes
from .panels.augment import AugmentPanel
from .panels.data import DataPanel
from .panels.evaluate import EvaluatePanel
from .panels.interpret import InterpretPanel
from .panels.model import ModelPanel
from .panels.robustness import RobustnessPanel
from .panels.runs import RunsPanel
from .panels.search import SearchPanel
from .panels.train import TrainPanel
from .readiness import REFUSED, show_readiness, start_blocker
from .render import MUTED, snapshot_html
from .snapshot import Snapshot, stale_message
from .tasks import Latest
from .twins import ButtonTwins
from .views.live import LiveFeed, LiveMonitor, panels_for

TABS = ("Data", "Augmentation", "Model", "Training", "Evaluation", "Interpret", "Robustness", "Search", "Runs")


class Studio(StudioDisplay, ButtonTwins):
    """Configure a recipe in panels, train it in the background, watch it live, evaluate and compare runs.

    ``keep_models`` finished runs keep their model and data in memory (for evaluation and
    attribution); older runs keep only their recipe, history and metrics, so a kernel that trains
    many runs stays lean. ``worker``: ``"process"`` (default: a warm worker process, see `WorkerSession`) or
    ``"thread"`` (a thread of the kernel, where a notebook server cannot start processes).
    """

    def __init__(self, recipe: Recipe | dict | str | Path | None = None, *, out: str | Path | None = "runs",
                 hz: float = 4.0, keep_models: int = 1, worker: str | None = None):
        self.session = open_session(worker, out)
        if in_kernel():  # displayed next: the worker imports torch while the panels are built (2 cores)
            self.session.warm_up()
            keep_iopub_lossless()  # ~3,300 widget comms open next: a busy server must not drop any (iopub.py)
        self.out, self.hz, self.keep_models, self._lock = out, hz, keep_models, threading.RLock()
        self.data: DataBundle | None = None
        self._data_key: str | None = None
        self._data_error: BaseException | None = None
        self.runs: list[Run] = []
        self.feed: LiveFeed | None = None
        self._feed_done = threading.Event()
        self._feed_done.set()  # no feed is running
        self._listed = threading.Event()  # the last run is in ``runs`` (its panels may still be drawn)
        self._listed.set()
        self._job: str | None = None
        self.job_message = ""
        self._shown: dict[str, str] = {}
        self.snapshots = Snapshot()  # the last run's summary under the studio (see `snapshot`)
        self._started: dict[str, Any] = {}  # mid-run fields as the active run has them
        self._stage = "train"  # what the active (or last) run does: train, or pretrain a text encoder

        self.form = RecipeForm(as_recipe(recipe), skip={"augment": ("ops",), "search": ("space",)})
        self.monitor = LiveMonitor()
        self.show_job = self.monitor.show_job  # what a panel's job (a search) says in the monitor
        self.monitor.on_command("start", lambda: self.start(force=True))  # a click is the user's own choice
        self.monitor.on_new_page(self._new_page)  # a reload after a run: say what the saved summary may lack
        for name in ("pause", "resume", "stop"):
            self.monitor.on_command(name, getattr(self, name))
        self.data_panel = DataPanel(self)
        self.augment_panel = AugmentPanel(self)
        self.model_panel = ModelPanel(self)
        self.train_panel = TrainPanel(self)
        self.evaluate_panel = EvaluatePanel(self)
        self.interpret_panel = InterpretPanel(self)
        self.robustness_panel = RobustnessPanel(self)
        self.search_panel = SearchPanel(self)
        self.runs_panel = RunsPanel(self)
        self.tabs = W.Tab(children=[self.data_panel.box, self.augment_panel.box, self.model_panel.box,
                                    self.train_panel.box, self.evaluate_panel.box, self.interpret_panel.box,
                                    self.robustness_panel.box, self.search_panel.box, self.runs_panel.box])
        for i, title in enumerate(TABS):
            self.tabs.set_title(i, title)
        self.tabs.observe(self._tab_selected, names="selected_index")
        self.header = W.HTML()
        self.lock_note = W.HTML()
        self.widget = W.VBox([self.header, self.monitor, self.lock_note, self.form.general_problems, self.tabs])
        self.widget.add_class("lnb-studio")
        self.data_task = Latest(self._load, self._loaded, self._load_failed, delay=0.3, name="lepton_nb-data")
        self.session.on_state(lambda state: apply_locks(self.form, self.session, state, self.lock_note,
                                                        self.recipe.train))
        self.session.on_event(self._mark_changes)
        self.form.on_change(self._recipe_changed)
        self.form.controls()["data.source"].widget.observe(self._source_changed, names="value")
        self.augment_panel.show_for_kind(self.form.recipe.kind)
        self._recipe_changed(self.form.validate(), self.form.problems)

    # ---- recipe --------------------------------------------------------------------------------

    @property
    def recipe(self) -> Recipe:
        """The recipe the panels show (the last valid one while a field is invalid; see ``problems``)."""
        return self.form.recipe

    @property
    def problems(self) -> list[Problem]:
        return self.form.problems

    def load_recipe(self, recipe: Recipe | dict | str | Path) -> None:
        """Put a recipe into every panel (from a run, a file or a dict)."""
        recipe = as_recipe(recipe)
        self.augment_panel.show_for_kind(recipe.kind)
        self.form.set_recipe(recipe)

    def update(self, changes: dict[str, Any] | None = None, **dotted: Any) -> Recipe:
        """Change recipe values by dotted key, as if typed into the panels: ``studio.update({"train.lr": 0.01})``."""
        recipe = self.recipe.updated(changes, **dotted)
        self.load_recipe(recipe)
        return recipe

    def _source_changed(self, change: Any) -> None:
        kind = SOURCE_KIND.get(change["new"], "image")
        arch = self.form.controls()["model.arch"]
        if arch.get() not in ARCHS_FOR_KIND[kind]:
            arch.set(ARCHS_FOR_KIND[kind][0])
        self.augment_panel.show_for_kind(kind)

    def _recipe_changed(self, recipe: Recipe | None, problems: list[Problem]) -> None:
        values = self.form.values()
        summary = recipe.summary() if recipe is not None else "recipe has problems (shown in red)"
        self.header.value = (f"<div style='font-size:14px'><b>lepton_nb studio</b> · "
                             f"<span style='{MUTED}'>{html.escape(summary)}</span></div>")
        key = json.dumps(values["data"], sort_keys=True)
        if key != self._data_key:
            self.load_data()
        elif self.data is not None:
            # re-render only what an edit changed: validation also runs on Start, mid-run work costs time
            if self._changed_since_shown("normalize", values):
                self.data_panel.show_normalization()
            if self._changed_since_shown("model", values):
                self.model_panel.refresh(recipe)
        show_readiness(self.monitor, problems if recipe is None else [], self._data_error)  # after a new load began

    def _changed_since_shown(self, section: str, values: dict[str, Any]) -> bool:
        key = json.dumps(values[section], sort_keys=True)
        changed = self._shown.get(section) != key
        self._shown[section] = key
        return changed

    # ---- data ----------------------------------------------------------------------------------

    def _data_recipe(self, data_values: dict[str, Any]) -> Recipe:
        kind = SOURCE_KIND.get(data_values.get("source"), "image")
        return Recipe.from_dict({"data": data_values, "model": {"arch": ARCHS_FOR_KIND[kind][0]},
                                 "augment": {"ops": []}, "normalize": self.form.values()["normalize"]})

    def load_data(self) -> None:
        """(Re)load the data section's dataset in the background."""
        values = self.form.values()["data"]
        self._data_key, self._data_error = json.dumps(values, sort_keys=True), None  # an error was the old data's
        self.data_panel.loading()
        self.data_task(values, self._data_key)

    def _load(self, values: dict[str, Any], key: str) -> tuple[DataBundle, str]:
        return build_data(self._data_recipe(values)), key

    def _loaded(self, result: tuple[DataBundle, str]) -> None:
        data, key = result
        with self._lock:
            self.data, self._data_error = data, None
        self.augment_panel.show_for_kind(data.kind)
        self.data_panel.show(data)
        self.augment_panel.refresh()
        values = self.form.values()
        self._shown.update({k: json.dumps(values[k], sort_keys=True) for k in ("normalize", "model")})
        self.model_panel.refresh(self.form.recipe)
        show_readiness(self.monitor, self.form.problems, None, reloaded=not self.session.busy)

    def _load_failed(self, exc: BaseException, tb: str) -> None:
        with self._lock:
            self.data, self._data_error = None, exc
        self.data_panel.failed(exc, tb)
        self.augment_panel.refresh()  # no preview and no model summary of other data
        self.model_panel.refresh(None)
        show_readiness(self.monitor, self.form.problems, exc)

    def wait_data(self, timeout: float | None = 60) -> DataBundle | None:
        """Block until the data has loaded and the panels drew it: a Start right after it competes with nothing."""
        end = None if timeout is None else time.monotonic() + timeout
        self.data_task.wait(timeout)
        for task in (self.data_panel.norm_task, self.augment_panel.task, self.model_panel.task):
            task.wait(None if end is None else max(0.0, end - time.monotonic()))
        return self.data

    def data_for(self, recipe: Recipe) -> DataBundle | None:
        """The loaded data, re-fitted to this recipe's normalization and augmentation; None if stale, or when a
        text recipe fine-tunes another run (``model.init_from``): its ids come from that run's tokenizer, so the
        run (or job) builds its data itself."""
        with self._lock:
            data, key = self.data, self._data_key
        if data is None or key != json.dumps(recipe.to_dict()["data"], sort_keys=True):
            return None
        if recipe.kind == "text" and recipe.model.init_from:
            return None
        return data.rebind(recipe)

    # ---- jobs ------------------------------------------------------------------------------------

    def selected_cell(self) -> list[int]:
        """The confusion-matrix cell selected in the Evaluation tab ([true, predicted], or [])."""
        return list(self.evaluate_panel.confusion.selected)

    def claim_job(self, name: str) -> bool:
        """One background job (training or cross-validation) at a time: both need the CPU."""
        with self._lock:
            if self.session.busy:
                self.job_message = f"a training run is {self.session.state}; stop it or wait for it first"
                return False
            if self._job is not None:
                self.job_message = f"{self._job} is running; stop it or wait for it first"
                return False
            self._job = name
            return True

    def release_job(self) -> None:
        with self._lock:
            self._job = None

    def add_run(self, run: Run) -> None:
        """List a run made by a panel (a search trial) in the Runs tab."""
        with self._lock:
            self.runs.append(run)
        self.runs_panel.refresh(visible=self.tabs.selected_index == TABS.index("Runs"))

    # ---- training commands -------------------------------------------------------------------------

    def start(self, force: bool = False, stage: str = "train") -> bool:
        """Start training the panels' recipe in the background (``stage="pretrain"``: pretrain its text encoder,
        as the Training tab's button does); returns at once. Refused (False, with the reason in the monitor)
        while a run or cross-validation is active, or while the recipe has problems. In a Voilà dashboard, code
        never starts training when the page loads: the visitor presses ▶ Start (or the notebook passes ``force``).
        """
        if not force and in_dashboard():
            return self._refuse("dashboard: press ▶ Start to train (loading the page never starts training)")
        recipe, blocked = self.form.validate(), start_blocker(self.problems, self._data_error)
        if recipe is None or blocked:
            return self._refuse(REFUSED + blocked)
        with self._lock:
            if self._job is not None:
                return self._refuse(f"cannot start: {self._job} is running")
            if not self.session.busy:  # the last run's panels are drawn before a new run starts
                self._feed_done.wait(30)
            data = self.data_for(recipe) if stage == "train" else None  # pretraining reads its own corpus
            if not self.session.start(recipe, data=data, stage=stage):
                return self._refuse(self.session.message)
            self._feed_done.clear()
            self._listed.clear()
            self.monitor.panels = panels_for(recipe.train.adversarial.method != "none", stage == "pretrain")
            self.monitor.marks, self._started, self._stage = [], mid_run_values(self.form), stage
            self.monitor.bind(self.session.history)
            session = self.session
            self.interpret_panel.timeline.bind(session.history, lambda: session.trainer and session.trainer.data)
            self.feed = LiveFeed(self.monitor, self.session, self.hz)
            self.feed.also.append(self.interpret_panel.timeline.push)
            self.feed.on_finish = self._finished
            self.feed.start()
        return True

    def _refuse(self, message: str) -> bool:
        self.monitor.message = self.job_message = message
        return False

    def pause(self) -> None:
        self.session.pause()

    def resume(self) -> dict[str, Any]:
        """Run on; the mid-run fields edited while paused (lr, weight decay, grad clipping, epochs, patience)
        apply from the next batch, are recorded with their step and marked on the live curves."""
        changes = self.pending_changes()
        if self._stage == "pretrain" and changes:  # pretraining runs on the pretrain section's settings
            self.session.resume()
            self.monitor.message = ("resumed; the edited " + ", ".join(changes) + " apply to the next training "
                                    "run, not to this pretraining (it uses the pretrain settings)")
            return {}
        try:
            self.session.resume(changes)
        except LeptonError as exc:
            self.monitor.message = f"not resumed: {exc}"
            return {}
        self._started.update(changes)
        if changes:
            self.monitor.message = "applied on Resume: " + ", ".join(f"{k.split('.')[-1]} = {v}" for k, v in
                                                                     changes.items())
        return changes

    def pending_changes(self) -> dict[str, Any]:
        """Mid-run fields edited in the panels since Start (or the last Resume) of the paused run."""
        return pending_changes(self.form, self.session, self._started)

    def _mark_changes(self, event: Any) -> None:
        if isinstance(event, Changed) and event.changes:
            self.monitor.marks = [*self.monitor.marks, *change_marks(event.changes)]

    def stop(self) -> None:
        self.session.stop()
        self.evaluate_panel.cv_control.stop()
        self.search_panel.stop()

    def wait(self, timeout: float | None = None, panels: bool = True) -> bool:
        """Block until the run has ended, is listed and (``panels``) shown in the panels: True; False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        if not self.session.wait(timeout):
            return False
        left = None if end is None else max(0.0, end - time.monotonic())
        return (self._feed_done if panels else self._listed).wait(left)

    @property
    def run(self) -> Run | None:
        """The latest finished run."""
        return self.runs[-1] if self.runs else None

    def _finished(self) -> None:
        try:
            session = self.session
            run = session.run
            if run is None:  # the run failed: keep what it logged
                folder = getattr(session.trainer.store, "path", None) if session.trainer else None
                run = Run.logged(session.recipe or self.recipe, folder, session.history, session.state,
                                 session.message)
            with self._lock:
                self.runs.append(run)
                finished = [r for r in self.runs if r.model is not None or r.data is not None]
                for old in finished[:-self.keep_models] if self.keep_models else finished:
                    old.release()
            self.train_panel.show_end(session, self.feed.error if self.feed else None)
            self._listed.set()
            if run.evaluation is not None:
                self.evaluate_panel.show_run(run, visible=self.tabs.selected_index == TABS.index("Evaluation"))
                self.interpret_panel.show_run(run)
                self.robustness_panel.show_run(run)
            self.runs_panel.refresh(visible=self.tabs.selected_index == TABS.index("Runs"))
            if not self.snapshots.update(snapshot_html(run), len(self.monitor.pages)):
                self.monitor.message = stale_message(run)
        finally:
            self._listed.set()
            self._feed_done.set()

    def _tab_selected(self, change: Any) -> None:
        """Figures of hidden panels are drawn when their tab is first shown (less work after each run)."""
        if change["new"] == TABS.index("Evaluation"):
            self.evaluate_panel.render_pending()
        elif change["new"] == TABS.index("Runs"):
            self.runs_panel.visible = True
            self.runs_panel.overlay()

    def show_tab(self, name: str) -> None:
        """Select a tab by name (``"Evaluation"``, ``"Runs"``, ...)."""
        self.tabs.selected_index = TABS.index(name)

    def close(self, timeout: float = 60.0) -> None:
        """Stop all background work, wait for its threads to end (none is left inside torch when the process
        exits: that makes it abort), end the worker process, and close the widgets."""
        self.stop()
        self.train_panel.lr_control.stop()
        self.runs_panel.deploy.control.stop()
        self.search_panel.close(timeout)
        self.session.wait(timeout)
        self.session.close()
        if self.feed is not None:
            self.feed.stop()
            self.feed.join(timeout)
        panels = (self.data_panel, self.augment_panel, self.model_panel, self.train_panel, self.evaluate_panel,
                  self.interpret_panel, self.robustness_panel, self.search_panel, self.runs_panel,
                  self.runs_panel.deploy)
        for task in [self.data_task, *(v for p in panels for v in vars(p).values() if isinstance(v, Latest))]:
            task.close(timeout)
        join_warm_up(timeout)  # its imports run inside torch too
        self.widget.close()
        self.monitor.close()
        self.evaluate_panel.confusion.close()
