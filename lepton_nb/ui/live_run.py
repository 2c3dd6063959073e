"""A run as the studio shows it while it trains: started from the panels' recipe, followed by the live monitor
and by every panel that shows something live, and handed to every panel when it ends.

Its commands are the studio's own (``studio.start()``, ``.pause()``, ``.resume()``, ``.stop()``, ``.wait()``), so a
notebook cell and a click take the same path.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

from ..artifacts import Run
from ..errors import LeptonError
from ..training.events import Changed
from .assets import in_dashboard
from .context import StudioContext
from .midrun import change_marks, mid_run_values, pending_changes
from .panels.base import Panel
from .readiness import REFUSED, start_blocker
from .render import snapshot_html
from .snapshot import Snapshot, stale_message
from .views.live import LiveFeed, LiveMonitor, panels_for


class LiveRun:
    """Starts runs in the context's session and follows them in ``monitor``; keeps the last ``keep_models`` runs'
    models and data in memory (older runs keep their recipe, history and metrics)."""

    def __init__(self, ctx: StudioContext, monitor: LiveMonitor, panels: Sequence[Panel], hz: float,
                 keep_models: int, snapshots: Snapshot):
        self.ctx, self.monitor, self.panels, self.hz, self.keep_models = ctx, monitor, panels, hz, keep_models
        self.snapshots = snapshots
        self.feed: LiveFeed | None = None
        self.feed_done = threading.Event()
        self.feed_done.set()  # no feed is running
        self.listed = threading.Event()  # the last run is in ``runs`` (its panels may still be drawn)
        self.listed.set()
        self.started: dict[str, Any] = {}  # mid-run fields as the active run has them
        self.stage = "train"  # what the active (or last) run does: train, or pretrain a text encoder
        ctx.session.on_event(self._mark_changes)

    def refuse(self, message: str) -> bool:
        self.monitor.message = self.ctx.job_message = message
        return False

    def start(self, force: bool = False, stage: str = "train") -> bool:
        """Start training the panels' recipe in the background (``stage="pretrain"``: pretrain its text encoder, as
        the Training tab's button does); returns at once. Refused (False, with the reason in the monitor) while a
        run or a job is active, or while the recipe has problems. In a Voilà dashboard, code never starts training
        when the page loads: the visitor presses ▶ Start (or the notebook passes ``force``).
        """
        ctx, session = self.ctx, self.ctx.session
        if not force and in_dashboard():
            return self.refuse("dashboard: press ▶ Start to train (loading the page never starts training)")
        blocked = start_blocker(ctx.form.problems, ctx.loader.error)  # the form validates on every edit
        if blocked:
            return self.refuse(REFUSED + blocked)
        recipe = ctx.form.recipe
        with ctx.lock:
            if ctx.job is not None:
                return self.refuse(f"cannot start: {ctx.job} is running")
            if not session.busy:  # the last run's panels are drawn before a new run starts
                self.feed_done.wait(30)
            data = ctx.data_for(recipe) if stage == "train" else None  # pretraining reads its own corpus
            if not session.start(recipe, data=data, stage=stage):
                return self.refuse(session.message)
            self.feed_done.clear()
            self.listed.clear()
            self.monitor.panels = panels_for(recipe.train.adversarial.method != "none", stage == "pretrain")
            self.monitor.marks, self.started, self.stage = [], mid_run_values(ctx.form), stage
            self.monitor.bind(session.history)
            self.feed = LiveFeed(self.monitor, session, self.hz)
            for panel in self.panels:  # panels that show something live follow the run's history too
                push = panel.follow(session)
                if push is not None:
                    self.feed.also.append(push)
            self.feed.on_finish = self._finished
            self.feed.start()
        return True

    def resume(self) -> dict[str, Any]:
        """Run on; the mid-run fields edited while paused apply from the next batch (see `pending_changes`)."""
        session, changes = self.ctx.session, self.pending_changes()
        if self.stage == "pretrain" and changes:  # pretraining runs on the pretrain section's settings
            session.resume()
            self._say("the edited " + ", ".join(changes) + " apply to the next training run, not to this "
                      "pretraining (it uses the pretrain settings)")
            return {}
        try:
            session.resume(changes)
        except LeptonError as exc:
            self.monitor.message = f"not resumed: {exc}"
            return {}
        self.started.update(changes)
        if changes:
            self._say("applied on Resume: " + ", ".join(f"{k.split('.')[-1]} = {v}" for k, v in changes.items()))
        return changes

    def _say(self, note: str) -> None:
        """A note on the live run, kept beside the session's own message while the run goes on."""
        if self.feed is not None:
            self.feed.say(note)
        else:
            self.monitor.message = note

    def pending_changes(self) -> dict[str, Any]:
        """Mid-run fields edited in the panels since Start (or the last Resume) of the paused run."""
        return pending_changes(self.ctx.form, self.ctx.session, self.started)

    def _mark_changes(self, event: Any) -> None:
        if isinstance(event, Changed) and event.changes:
            self.monitor.marks = [*self.monitor.marks, *change_marks(event.changes)]

    def wait(self, timeout: float | None = None, panels: bool = True) -> bool:
        """Block until the run has ended, is listed and (``panels``) shown in the panels: True; False on timeout."""
        end = None if timeout is None else time.monotonic() + timeout
        if not self.ctx.session.wait(timeout):
            return False
        left = None if end is None else max(0.0, end - time.monotonic())
        return (self.feed_done if panels else self.listed).wait(left)

    def _finished(self) -> None:
        ctx = self.ctx
        try:
            session = ctx.session
            run = session.run
            if run is None:  # the run failed: keep what it logged
                folder = getattr(session.trainer.store, "path", None) if session.trainer else None
                run = Run.logged(session.recipe or ctx.recipe, folder, session.history, session.state,
                                 session.message)
            with ctx.lock:
                ctx.runs.append(run)
                finished = [r for r in ctx.runs if r.model is not None or r.data is not None]
                for old in finished[:-self.keep_models] if self.keep_models else finished:
                    old.release()
            ctx.view_error = self.feed.error if self.feed else None
            self.listed.set()
            for panel in self.panels:
                panel.show_run(run, visible=ctx.shown is panel)
            if not self.snapshots.update(snapshot_html(run), len(self.monitor.pages)):
                self.monitor.message = stale_message(run)
        finally:
            self.listed.set()
            self.feed_done.set()

    def close(self, timeout: float) -> None:
        if self.feed is not None:
            self.feed.stop()
            self.feed.join(timeout)
