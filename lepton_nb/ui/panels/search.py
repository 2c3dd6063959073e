"""The Search tab: pick fields and ranges, run an Optuna search in the background, watch every trial live.

The space editor and the search settings are part of the recipe (its ``search`` section), so a recipe
saved from the studio searches the same way with ``lepton-nb tune``. Start claims the studio's job lock
(one CPU-heavy job at a time, as the LR finder does) and the monitor above the tabs says "searching" with
the trials so far; its ■ Stop (or Stop search) ends the running trial within a batch and the study stays
resumable; "Apply best" puts the best trial's recipe into every panel. Each trial is an ordinary run and
appears in the Runs tab. "Watch" shows a study that other processes or machines run (a shared
``search.storage``), live, without training here. The buttons come first, above the trials and the space,
so they are on screen at 1024 px.
"""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path
from typing import Any

import ipywidgets as W
import pandas as pd

from ...errors import UsageError
from ...recipe import TECHNICAL_TERMS, Problem, Recipe, pruning_note
from ...training.control import Control
from ..access import labelled
from ..context import StudioContext
from ..forms import FORM_COLUMN, button
from ..render import MUTED, WARN, download_link, error_html
from ..tasks import Latest
from ..views.space import SpaceEditor
from ..views.trials import TrialsView
from .base import Tab

STALE_EVERY_S = 2.0  # how often the live view fails trials of dead processes (a write to the database)


class SearchPanel(Tab):
    """Start/Stop/Apply best/Watch, the live trials view, the search space editor and the search settings."""

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
        self._explain_terms()
        self.start_button = button("Start search", icon="search", button_style="primary",
                                   tooltip="Run the trials in the background (continues this recipe's study if "
                                           "there is one)")
        self.stop_button = button("Stop search", icon="stop", disabled=True,
                                  tooltip="Stop the running trial now; the study stays resumable")
        self.apply_button = button("Apply best", icon="check", disabled=True,
                                   tooltip="Put the best trial's recipe into every panel")
        self.watch_button = button("Watch", icon="eye",
                                   tooltip="Show this recipe's study live while other processes or machines run "
                                           "its trials (a shared search.storage); nothing trains here")
        self.resume = labelled(W.Checkbox(value=True), "continue this recipe's study if one exists", label_width=None)
        self.status = W.HTML()
        self.report_link = W.HTML()
        self.view = TrialsView()
        self.start_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.apply_button.on_click(lambda _: self.apply_best())
        self.watch_button.on_click(lambda _: self.unwatch() if self.watching else self.watch())
        self.control = Control()
        self.study: Any = None  # the lepton_nb.search.Study of the last search
        self.error: BaseException | None = None
        self.watching = False
        self.searching = False  # a search of this tab runs (holds the studio's job lock)
        self._optuna: Any = None
        self._before = 0  # trials in the study when this search opened it
        self._total = 0
        self._started_at = 0.0
        self._stale_at = 0.0
        self._poll_stop = threading.Event()
        self._poller: threading.Thread | None = None
        self.task = Latest(self._work, self._done, self._failed, name="lepton_nb-search")
        bar = W.HBox([self.start_button, self.stop_button, self.apply_button, self.watch_button, self.resume],
                     layout=W.Layout(flex_flow="row wrap", align_items="center"))
        left = W.VBox([W.HTML("<h4>Search space</h4><p style='font-size:12px'>Tick the fields to search; each "
                              "row shows what the field allows.</p>"), self.editor.box, self.problems],
                      layout=W.Layout(flex="1 1 560px"))
        self.settings = W.VBox([W.HTML("<h4>Search settings</h4>"), ctx.form.sections["search"].box, self.pruning],
                               layout=W.Layout(flex=FORM_COLUMN))
        self.bar = bar
        self.box = W.VBox([bar, self.status, self.report_link, W.HTML("<h4>Trials</h4>"), self.view.box,
                           W.HBox([left, self.settings], layout=W.Layout(flex_flow="row wrap"))])

    # ---- editing --------------------------------------------------------------------------------

    def _add_form_ticks(self) -> dict[str, W.Checkbox]:
        """A small "search" tick beside every searchable field in the other tabs' forms, linked to the editor."""
        ticks = {}
        controls = self.ctx.form.controls()
        for key, row in self.editor.rows.items():
            control = controls.get(key)
            if control is None:
                continue
            tick = labelled(W.Checkbox(layout=W.Layout(width="70px", flex="0 0 auto"),
                                       tooltip=f"search {key} (Search tab)"), "search", label_width=None)
            tick.add_class("lnb-search-tick")
            W.link((row.tick, "value"), (tick, "value"))  # the editor (the recipe) is the source at first
            control.row.children = (control.row.children[0], tick, *control.row.children[1:])
            ticks[key] = tick
        return ticks

    def _explain_terms(self) -> None:
        """The settings' help reads in plain words; their technical names (TPE, SQLAlchemy URL) come on hover."""
        controls = self.ctx.form.controls()
        for key, terms in TECHNICAL_TERMS.items():
            control = controls.get(key)
            if control is None:
                continue
            words = html.escape(control.info.get("help", ""))
            control.help.value = f"<div class='lnb-help-text' title=\"{html.escape(terms, quote=True)}\">{words}</div>"

    def _recipe_changed(self, recipe: Recipe | None, problems: list[Problem]) -> None:
        if recipe is not None:
            self.editor.current = recipe
            self.editor.show_for(recipe)
        mine = [p for p in problems if p.field.startswith("search.space")]
        self.problems.value = "".join(f"<div class='lnb-problem' style='font-size:12px'>⚠ "
                                      f"{html.escape(str(p))}</div>" for p in mine)
        if recipe is not None:  # beside the settings that cause it: the pruner cannot save any training
            note = pruning_note(recipe.search, recipe.train.epochs)
            self.pruning.value = (f"<div class='lnb-note' style='color:{WARN};font-size:12px'>ⓘ "
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
        self.unwatch()
        self.searching = True
        self.control = Control()
        self.error, self._optuna, self._before, self._total = None, None, 0, recipe.search.trials
        self._started_at = time.monotonic()
        self.view.reset()
        self.report_link.value = ""
        self.start_button.disabled, self.stop_button.disabled, self.watch_button.disabled = True, False, True
        self.status.value = f"<span style='{MUTED}'>searching: {recipe.search.trials} trials…</span>"
        self.ctx.show_job("searching", "search: opening the study…", {"fraction": 0.0, "elapsed": 0.0})
        self._start_polling(recipe)
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

    def watch(self) -> bool:
        """Show the panels' recipe's study live (run by other processes or machines); False when there is none."""
        recipe = self.ctx.form.validate()
        if recipe is None or self.searching:
            return False
        from ...search import Study

        try:
            study = Study.find(self.ctx.out or "runs", recipe)
        except Exception as exc:
            self.status.value = error_html(exc)
            return False
        self.study, self._optuna, self.watching = study, study.optuna, True
        self.watch_button.description, self.watch_button.icon = "Stop watching", "eye-slash"
        self.view.reset()
        self.status.value = (f"<span style='{MUTED}'>watching study {html.escape(study.name)}: trials that other "
                             "processes run appear as they train; nothing trains here</span>")
        self._start_polling(recipe)
        return True

    def unwatch(self) -> None:
        if not self.watching:
            return
        self.watching = False
        self._stop_polling()
        self.watch_button.description, self.watch_button.icon = "Watch", "eye"
        self.status.value = f"<span style='{MUTED}'>stopped watching</span>"

    # ---- the work (background thread) -------------------------------------------------------------

    def _work(self, recipe: Recipe, out: Path, resume: bool, data: Any) -> Any:
        from ...search import Study
        from ...search.job import search_job

        # the trials train where the studio trains: in its worker process (or its thread with worker="thread")
        folder = self.ctx.session.call(search_job, recipe, control=self.control, data=data,
                                       on_progress=self._progress, out=str(out), resume=resume)
        return Study.load(folder)

    def _progress(self, kind: str, value: Any) -> None:
        """What the search job reports: ``study`` (its folder, opened), ``run`` (a trial's run, listed)."""
        {"study": self._opened, "run": self.ctx.add_run}[kind](value)

    def _opened(self, value: tuple[Path, int]) -> None:
        """The kernel reads the running trials from the study's database."""
        from ...search import Study

        folder, self._before = value
        self._optuna = Study.load(folder).optuna

    def _start_polling(self, recipe: Recipe) -> None:
        self._stop_polling()
        self._poll_stop.clear()
        self._poller = threading.Thread(target=self._poll, args=(recipe,), name="lepton_nb-search-view",
                                        daemon=True)
        self._poller.start()

    def _stop_polling(self) -> None:
        self._poll_stop.set()
        if self._poller is not None and self._poller is not threading.current_thread():
            self._poller.join(10)

    def _poll(self, recipe: Recipe) -> None:
        """Refresh the trials view (and, while searching, the monitor) from the study's database."""
        while not self._poll_stop.wait(self.period):
            self.show_trials(recipe)

    def show_trials(self, recipe: Recipe | None = None) -> None:
        """Show the study's trials now (running ones with their epoch and last value); a trial whose process
        died is shown failed once its heartbeat is stale, never as running."""
        study = self._optuna
        if study is None:
            return
        from ...search import trials_frame
        from ...search.liveness import fail_stale
        from ...search.space import direction

        recipe = recipe or self.ctx.recipe
        try:
            if time.monotonic() - self._stale_at >= STALE_EVERY_S:
                self._stale_at = time.monotonic()
                fail_stale(study)
            trials = trials_frame(study.get_trials(deepcopy=False), list(recipe.search.space))
            self.view.show(trials, recipe.search.objective, direction(recipe.search), list(recipe.search.space))
            if self.searching:
                self.ctx.show_job("searching", *self._monitor_line(trials, recipe))
        except Exception as exc:  # a locked database or a closing study: the next tick tries again
            self.status.value = error_html(exc)

    def _monitor_line(self, trials: Any, recipe: Recipe) -> tuple[str, dict[str, Any]]:
        """The monitor's line while searching: the running trial, trials finished of the budget, the best."""
        from ...search.space import direction

        s = recipe.search
        finished = int(trials.state.isin(["complete", "pruned"]).sum() +
                       ((trials.state == "fail") & ~trials.message.str.startswith("no heartbeat")).sum())
        running = trials[trials.state == "running"]
        parts = []
        for _, r in running.iterrows():
            epoch = f" (epoch {int(r['epoch'])})" if pd.notna(r["epoch"]) else ""
            parts.append(f"trial {int(r['trial'])} running{epoch}")
        parts.append(f"{min(finished, s.trials)} of {s.trials} trials finished")
        done = trials[trials.state == "complete"]
        if len(done):
            best = done.value.max() if direction(s) == "maximize" else done.value.min()
            parts.append(f"best {s.objective} {best:.4f}")
        progress = {"fraction": min(1.0, finished / max(1, s.trials)),
                    "elapsed": time.monotonic() - self._started_at}
        return "search: " + " · ".join(parts) + " — Search tab", progress

    def _end(self) -> None:
        self.searching = False
        self._stop_polling()
        self.ctx.release_job()
        self.start_button.disabled, self.stop_button.disabled, self.watch_button.disabled = False, True, False

    def _done(self, study: Any) -> None:
        self._end()
        self.study = study
        self._optuna = study.optuna
        self.show_trials(study.recipe)
        self.view.show_importances(study)
        best = study.best_trial
        new = len(study.optuna.get_trials(deepcopy=False)) - self._before
        if new == 0:
            ran = (f"0 new trials: the study already has {study.recipe.search.trials} finished trials, as many as "
                   "Trials asks; raise Trials to search more")
        else:
            ran = f"{new} new trial{'s' if new != 1 else ''}"
        stopped = " (stopped: Start continues it)" if self.control.stop_requested else ""
        text = (f"best {html.escape(study.objective)} <b>{best.value:.4f}</b> (trial {best.number})"
                if best is not None else "no trial completed")
        self.status.value = f"<span>{html.escape(ran)}{stopped} · {text}</span>"
        self._show_report(study)
        self.apply_button.disabled = best is None
        best_text = f"best {study.objective} {best.value:.4f} (trial {best.number})" if best is not None else \
            "no trial completed"
        self.ctx.show_job("stopped" if stopped else "idle", f"search: {ran}{stopped} · {best_text} — Search tab")

    def _show_report(self, study: Any) -> None:
        """A link that opens the study's report from the page itself (no server path), and where its files are."""
        path = study.folder.report_path
        link = download_link(path.read_bytes(), f"{study.name}-search-report.html", "study report (HTML)",
                             "text/html") if path.is_file() else ""
        self.report_link.value = (f"<div style='font-size:12px'>{link}<span style='{MUTED}'>study folder: "
                                  f"{html.escape(str(study.folder.path))}</span></div>")

    def _failed(self, exc: BaseException, tb: str) -> None:
        self._end()
        self.error = exc
        self.status.value = error_html(exc, tb)
        self.ctx.show_job("error", f"search: {exc}" if str(exc) else f"search: {type(exc).__name__}")

    def close(self, timeout: float = 60.0) -> None:
        self.stop()
        self.task.close(timeout)
        self._poll_stop.set()
        if self._poller is not None:
            self._poller.join(timeout)
