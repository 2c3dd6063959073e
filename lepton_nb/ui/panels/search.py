"""The Search tab: pick fields and ranges, run an Optuna search in the background, watch every trial live.

The space editor and the search settings are part of the recipe (its ``search`` section), so a recipe
saved from the studio searches the same way with ``lepton-nb tune``. Start claims the studio's job lock
(one CPU-heavy job at a time, as the LR finder does); Stop ends the running trial within a batch and the
study stays resumable; "Apply best" puts the best trial's recipe into every panel. Each trial is an
ordinary run and appears in the Runs tab.
"""

from __future__ import annotations

import html
import threading
from pathlib import Path
from typing import Any

import ipywidgets as W

from ...errors import UsageError
from ...recipe import Problem, Recipe, pruning_note
from ...training.control import Control
from ..context import StudioContext
from ..forms import FORM_COLUMN, button
from ..render import MUTED, error_html
from ..tasks import Latest
from ..views.space import SpaceEditor
from ..views.trials import TrialsView
from .base import Tab


class SearchPanel(Tab):
    """Search space editor, search settings, Start/Stop, the live trials view and Apply best."""

    title, key = "Search", "search"

    def __init__(self, ctx: StudioContext, hz: float = 2.0):
        self.ctx = ctx
        self.period = 1.0 / hz
        self.editor = SpaceEditor(ctx.form.recipe, ctx.form.changed)
        self.editor.set(ctx.form.recipe.search.space)
        ctx.form.add_extra("search.space", self.editor.get, self.editor.set)
        self.problems = W.HTML()
        self.pruning = W.HTML()
        ctx.form.on_change(self._recipe_changed)
        self._recipe_changed(ctx.form.recipe, [])
        self.form_ticks = self._add_form_ticks()
        self.start_button = button("Start search", icon="search", button_style="primary",
                                   tooltip="Run the trials in the background (continues this recipe's study if "
                                           "there is one)")
        self.stop_button = button("Stop search", icon="stop", disabled=True,
                                  tooltip="Stop the running trial now; the study stays resumable")
        self.apply_button = button("Apply best", icon="check", disabled=True,
                                   tooltip="Put the best trial's recipe into every panel")
        self.resume = W.Checkbox(value=True, indent=False, description="continue this recipe's study if one exists")
        self.status = W.HTML()
        self.view = TrialsView()
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.apply_button.on_click(lambda _: self.apply_best())
        self.control = Control()
        self.study: Any = None  # the lepton_nb.search.Study of the last search
        self.error: BaseException | None = None
        self._optuna: Any = None
        self._poll_stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.task = Latest(self._work, self._done, self._failed, name="lepton_nb-search")
        left = W.VBox([W.HTML("<h4>Search space</h4><p style='font-size:12px'>Tick the fields to search; each "
                              "row shows what the field allows.</p>"), self.editor.box, self.problems],
                      layout=W.Layout(flex="1 1 660px"))
        right = W.VBox([W.HTML("<h4>Search</h4>"), ctx.form.sections["search"].box, self.pruning, self.resume,
                        W.HBox([self.start_button, self.stop_button, self.apply_button]), self.status,
                        W.HTML("<h4>Trials</h4>"), self.view.box], layout=W.Layout(flex=FORM_COLUMN))
        self.box = W.HBox([left, right], layout=W.Layout(flex_flow="row wrap"))

    # ---- editing --------------------------------------------------------------------------------

    def _add_form_ticks(self) -> dict[str, W.Checkbox]:
        """A small "search" tick beside every searchable field in the other tabs' forms, linked to the editor."""
        ticks = {}
        controls = self.ctx.form.controls()
        for key, row in self.editor.rows.items():
            control = controls.get(key)
            if control is None:
                continue
            tick = W.Checkbox(description="search", indent=False, layout=W.Layout(width="70px", flex="0 0 auto"),
                              tooltip=f"search {key} (Search tab)")
            tick.add_class("lnb-search-tick")
            W.link((row.tick, "value"), (tick, "value"))  # the editor (the recipe) is the source at first
            control.row.children = (control.row.children[0], tick, *control.row.children[1:])
            ticks[key] = tick
        return ticks

    def _recipe_changed(self, recipe: Recipe | None, problems: list[Problem]) -> None:
        if recipe is not None:
            self.editor.current = recipe
        mine = [p for p in problems if p.field.startswith("search.space")]
        self.problems.value = "".join(f"<div class='lnb-problem' style='color:#c62828;font-size:12px'>⚠ "
                                      f"{html.escape(str(p))}</div>" for p in mine)
        if recipe is not None:  # beside the settings that cause it: the pruner cannot act
            note = pruning_note(recipe.search, recipe.train.epochs)
            self.pruning.value = (f"<div class='lnb-note' style='color:#8a5a00;font-size:12px'>ⓘ "
                                  f"{html.escape(note)}</div>" if note else "")

    # ---- commands ---------------------------------------------------------------------------------

    def start(self) -> bool:
        """Start the search in the background; False (with the reason shown) when it cannot start."""
        recipe = self.ctx.form.validate()
        if recipe is None:
            self.status.value = error_html(ValueError("fix the recipe first (see the problems shown)"))
            return False
        out = self.ctx.out
        if out is None:
            self.status.value = error_html(UsageError("out", None, "a search keeps its study in a folder; allowed: "
                                                                  "lnb.Studio(out='runs')"))
            return False
        from ...search import check_searchable  # loads Optuna: on first use only

        try:
            check_searchable(recipe)
        except Exception as exc:
            self.status.value = error_html(exc)
            return False
        if not self.ctx.claim_job("the search"):  # a training or a search at once would halve both
            self.status.value = error_html(ValueError(f"cannot search: {self.ctx.job_message}"))
            return False
        self.control = Control()
        self.error, self._optuna = None, None
        self.view.reset()
        self.start_button.disabled, self.stop_button.disabled = True, False
        self.status.value = f"<span style='{MUTED}'>searching: {recipe.search.trials} trials…</span>"
        self._poll_stop.clear()
        self._poller = threading.Thread(target=self._poll, args=(recipe,), name="lepton_nb-search-view",
                                        daemon=True)
        self._poller.start()
        self.task(recipe, Path(out), self.resume.value, self.ctx.data_for(recipe))
        return True

    def search_twin(self, wait: bool = True, timeout: float | None = None) -> Any:
        """`start` as the studio's twin: the `Study` when ``wait``."""
        if not self.start():
            return None
        if wait:
            self.task.wait(timeout)
            return self.study
        return None

    def stop(self) -> None:
        """Stop the running trial within a batch; no new trial starts. The study stays resumable."""
        self.control.stop("stopped by user")

    def apply_best(self) -> Recipe | None:
        """Load the best trial's recipe into the panels (named as before, so its study can go on)."""
        best = self.study.best_recipe if self.study is not None else None
        if best is None:
            return None
        recipe = best.updated({"name": self.study.recipe.name})
        self.ctx.load_recipe(recipe)
        self.status.value = f"<span style='{MUTED}'>the best trial's values are in the panels</span>"
        return recipe

    # ---- the work (background thread) -------------------------------------------------------------

    def _work(self, recipe: Recipe, out: Path, resume: bool, data: Any) -> Any:
        from ...search import Study
        from ...search.job import search_job

        # the trials train where the studio trains: in its worker process (or its thread with worker="thread")
        folder = self.ctx.session.call(search_job, recipe, control=self.control, data=data,
                                       on_progress=self._progress, out=str(out), resume=resume)
        return Study.load(folder)

    def _progress(self, kind: str, value: Any) -> None:
        if kind == "study":  # the kernel reads the running trials from the study's database
            from ...search import Study

            self._optuna = Study.load(value).optuna
        elif kind == "run":
            self.ctx.add_run(value)

    def _poll(self, recipe: Recipe) -> None:
        """Refresh the trials view from the study's database until the search ends."""
        while not self._poll_stop.wait(self.period):
            self.show_trials(recipe)

    def show_trials(self, recipe: Recipe | None = None) -> None:
        """Show the study's trials now (running ones with their epoch and last value)."""
        study = self._optuna
        if study is None:
            return
        from ...search import trials_frame
        from ...search.space import direction

        recipe = recipe or self.ctx.recipe
        try:
            trials = trials_frame(study.get_trials(deepcopy=False), list(recipe.search.space))
            self.view.show(trials, recipe.search.objective, direction(recipe.search), list(recipe.search.space))
        except Exception as exc:  # a locked database or a closing study: the next tick tries again
            self.status.value = error_html(exc)

    def _end(self) -> None:
        self._poll_stop.set()
        if self._poller is not None:
            self._poller.join(10)
        self.ctx.release_job()
        self.start_button.disabled, self.stop_button.disabled = False, True

    def _done(self, study: Any) -> None:
        self._end()
        self.study = study
        self._optuna = study.optuna
        self.show_trials(study.recipe)
        best = study.best_trial
        stopped = " (stopped: Start continues it)" if self.control.stop_requested else ""
        text = (f"best {html.escape(study.objective)} <b>{best.value:.4f}</b> (trial {best.number})"
                if best is not None else "no trial completed")
        self.status.value = (f"<span>{text}{stopped} · report: <code>{html.escape(str(study.folder.report_path))}"
                             f"</code></span>")
        self.apply_button.disabled = best is None

    def _failed(self, exc: BaseException, tb: str) -> None:
        self._end()
        self.error = exc
        self.status.value = error_html(exc, tb)

    def close(self, timeout: float = 60.0) -> None:
        self.stop()
        self.task.close(timeout)
        self._poll_stop.set()
        if self._poller is not None:
            self._poller.join(timeout)
