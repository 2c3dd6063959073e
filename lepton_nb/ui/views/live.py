"""Live training views: an append-only anywidget monitor and the thread that feeds it.

The training thread only appends to the History. A feed thread wakes a few times per second,
reads what is new since its last update and sends just those points (one message per tick),
plus progress as synced traits. Payloads depend on the update rate, never on the run length.
"""

from __future__ import annotations

import contextvars
import json
import logging
import threading
import time
import traceback
from collections.abc import Callable
from typing import Any

import anywidget
import ipywidgets as W
import numpy as np
import traitlets as t

from ...training.history import History, decimate
from ...workflows.session.core import ACTIVE
from ..assets import asset

log = logging.getLogger("lepton_nb")
MAX_POINTS_PER_UPDATE = 400  # per series; more new points than this are min/max-decimated
MAX_POINTS_ON_RESET = 4000  # per series, when a view (re)connects

DEFAULT_PANELS = [
    {"title": "loss", "series": ["batch_loss", "val_loss"]},
    {"title": "accuracy", "series": ["train_accuracy", "val_accuracy"], "ymin": 0, "ymax": 1},
    {"title": "learning rate", "series": ["lr"], "ymin": 0},
]
DEFAULT_STYLES = {
    "batch_loss": {"label": "train (batch)", "color": "#4c72b0", "smooth": True},
    "val_loss": {"label": "val", "color": "#dd8452", "points": True},
    "train_accuracy": {"label": "train", "color": "#4c72b0", "points": True},
    "val_accuracy": {"label": "val", "color": "#dd8452", "points": True},
    "lr": {"label": "lr", "color": "#55a868"},
    "val_robust_accuracy": {"label": "val under PGD", "color": "#c44e52", "points": True},
}


PRETRAIN_PANELS = [
    {"title": "masked-token loss", "series": ["batch_loss"]},
    {"title": "masked-token accuracy", "series": ["train_accuracy"], "ymin": 0, "ymax": 1},
    {"title": "learning rate", "series": ["lr"], "ymin": 0},
]


def panels_for(adversarial: bool, pretraining: bool = False) -> list[dict[str, Any]]:
    """The live charts of a run: adversarial training adds the robust validation accuracy beside the clean one;
    pretraining has no labels, so its charts are the masked-token loss and accuracy (no validation)."""
    if pretraining:
        return PRETRAIN_PANELS
    if not adversarial:
        return DEFAULT_PANELS
    return [dict(p, series=[*p["series"], "val_robust_accuracy"]) if p["title"] == "accuracy" else p
            for p in DEFAULT_PANELS]


def _payload(x: np.ndarray, y: np.ndarray, limit: int) -> dict[str, Any]:
    """Points as JSON-ready lists; evenly spaced x (per-batch steps) is sent as start + spacing."""
    if len(x) > limit:
        x, y = decimate(x, y, limit)
    out: dict[str, Any] = {"y": [v if np.isfinite(v) else None for v in y.tolist()]}
    if len(x) > 1 and np.all(np.diff(x) == x[1] - x[0]):
        out.update(x0=float(x[0]), dx=float(x[1] - x[0]))
    elif len(x) == 1:
        out.update(x0=float(x[0]), dx=0.0)
    else:
        out["x"] = x.tolist()
    return out


class ReplyContext(W.Widget):
    """Publishes every message of a widget in the context of the last front-end message it got (a base of the
    anywidgets that take commands: it refines `Widget._send`).

    ipykernel routes the front end's next message for a comm to the kernel subshell that sent the
    comm's latest message. Sent from a plain thread (a feed), that would be the main shell, where a
    busy cell (``time.sleep``) holds a click until it finishes. Sending in the context of the front
    end's own ``hello`` (handled on a subshell) keeps clicks on the subshell, handled at once.
    """

    _reply_context: contextvars.Context | None = None

    def remember_context(self) -> None:
        """Call from a handler of a front-end message."""
        self._reply_context = contextvars.copy_context()

    def _send(self, msg: dict[str, Any], buffers: Any = None) -> None:
        ctx = self._reply_context
        if ctx is None:
            super()._send(msg, buffers)
        else:
            ctx.copy().run(super()._send, msg, buffers)


STATUS_KEYS = ("state", "message", "progress", "can_start", "start_hint", "marks")


class LiveMonitor(ReplyContext, anywidget.AnyWidget):
    """Start/Pause/Resume/Stop, progress and live curves in one front-end view.

    Button clicks arrive as custom messages and call the handlers registered with `on_command`.
    """

    # the studio's keyboard stepping of number fields (access.js) travels with its monitor
    _esm = asset("access.js").read_text() + asset("live_monitor.js").read_text()
    # the studio's own layout rules travel with its monitor (scoped to .lnb-studio)
    _css = asset("live_monitor.css").read_text() + asset("studio.css").read_text()

    state = t.Unicode("idle").tag(sync=True)
    message = t.Unicode("").tag(sync=True)
    progress = t.Dict().tag(sync=True)
    can_start = t.Bool(True).tag(sync=True)
    start_hint = t.Unicode("").tag(sync=True)
    panels = t.List(DEFAULT_PANELS).tag(sync=True)
    styles = t.Dict(DEFAULT_STYLES).tag(sync=True)
    marks = t.List().tag(sync=True)  # [{"step", "text"}]: settings changed mid-run, drawn as dashed lines

    def __init__(self, history: History | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._history = history if history is not None else History()
        self._sent: dict[str, int] = {}
        self._commands: dict[str, Callable[[], Any]] = {}
        self.pages: list[str] = []  # the pages (browser loads) that showed a view of this monitor, in order
        self._page_listeners: list[Callable[[int], Any]] = []
        self.bytes_sent = 0
        self.updates_sent = 0
        self.last_update_bytes = 0
        self.on_msg(self._on_msg)

    # ---- wiring --------------------------------------------------------------------------

    @property
    def history(self) -> History:
        return self._history

    def on_command(self, name: str, handler: Callable[[], Any]) -> None:
        self._commands[name] = handler

    def on_new_page(self, listener: Callable[[int], Any]) -> None:
        """Call ``listener(number of pages)`` when a view says it is in a page not seen before (a reload)."""
        self._page_listeners.append(listener)

    def show_job(self, state: str, message: str, progress: dict[str, Any] | None = None) -> None:
        """Say what a job other than a training does (a search: "searching", its trials so far, its progress)."""
        with self._lock, self.hold_sync():
            self.state, self.message, self.progress = state, message, progress or {}

    def series_names(self) -> list[str]:
        return [name for panel in self.panels for name in panel["series"]]

    def bind(self, history: History) -> None:
        """Show another run's history (sends it whole, then only what is new)."""
        with self._lock:
            self._history = history
            self.send_reset()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if not isinstance(content, dict):
            return
        self.remember_context()
        # what the page says: hello (a page opened: it gets everything), pull (what it lacks), command (a button)
        said = {"hello": self._hello, "pull": lambda c: self.reply_to_pull(c.get("known")), "command": self._command}
        handler = said.get(str(content.get("type")))
        if handler is not None:
            handler(content)

    def _hello(self, content: dict[str, Any]) -> None:
        page = content.get("page")
        if isinstance(page, str) and page not in self.pages:
            self.pages.append(page)
            for listener in self._page_listeners:
                listener(len(self.pages))
        self.send_reset()

    def _command(self, content: dict[str, Any]) -> None:
        handler = self._commands.get(str(content.get("name")))
        if handler is not None:
            handler()

    # ---- sending -------------------------------------------------------------------------

    def _send_payload(self, payload: dict[str, Any]) -> int:
        size = len(json.dumps(payload, separators=(",", ":")))
        self.bytes_sent += size
        self.updates_sent += 1
        self.last_update_bytes = size
        self.send(payload)
        return size

    def send_reset(self) -> int:
        """The whole history (decimated past MAX_POINTS_ON_RESET per series): what a new view needs."""
        with self._lock:
            series = {}
            for name in self.series_names():
                x, y = self._history.series(name)
                self._sent[name] = len(x)
                series[name] = {**_payload(x, y, MAX_POINTS_ON_RESET), "n": len(x)}
            return self._send_payload({"type": "reset", "series": series})

    def reply_to_pull(self, known: Any) -> int:
        """Answer a view that heard nothing for a while during a run: the points after those it has, and the
        status. Some front ends (Google Colab) draw nothing sent from the training thread; this answer,
        sent while the kernel handles the page's own message, reaches them."""
        with self._lock:
            known = known if isinstance(known, dict) else {}
            series = {}
            for name in self.series_names():
                start = known.get(name, 0)
                start = start if isinstance(start, int) and start >= 0 else 0
                if start > self._history.length(name):  # the view shows points of another run
                    return self.send_reset() + self.reply_to_pull({})
                x, y = self._history.since(name, start)
                if len(x):
                    series[name] = {"start": start, **_payload(x, y, MAX_POINTS_PER_UPDATE), "n": len(x)}
                    self._sent[name] = max(self._sent.get(name, 0), start + len(x))  # the next push goes on
            status = {key: getattr(self, key) for key in STATUS_KEYS}
            return self._send_payload({"type": "pulled", "series": series, "status": status})

    def push(self) -> int:
        """Send the points logged since the last push; returns the bytes sent (0 when nothing is new)."""
        with self._lock:
            series = {}
            for name in self.series_names():
                start = self._sent.get(name, 0)
                x, y = self._history.since(name, start)
                if len(x) == 0:
                    continue
                self._sent[name] = start + len(x)
                series[name] = {"start": start, **_payload(x, y, MAX_POINTS_PER_UPDATE), "n": len(x)}
            return self._send_payload({"type": "append", "series": series}) if series else 0


class LiveFeed:
    """A thread that updates a LiveMonitor from a Session at most ``hz`` times per second."""

    def __init__(self, monitor: LiveMonitor, session: Any, hz: float = 4.0):
        self.monitor, self.session, self.period = monitor, session, 1.0 / hz
        self._stop = threading.Event()
        self._wake = threading.Event()  # set on stop and when the run ends: no tick of delay
        self._thread: threading.Thread | None = None
        self._rate: list[tuple[float, int]] = []
        self._clock = TrainingClock()
        self.ticks = 0
        self.cpu_seconds = 0.0
        self.on_finish: Callable[[], None] | None = None
        self.also: list[Callable[[], Any]] = []  # other views refreshed on the same tick
        self.error: str | None = None  # the first failure of a tick, shown by the studio
        self._note, self._note_step = "", 0

    def say(self, note: str) -> None:
        """Show ``note`` after the session's message (e.g. what Resume applied) until the run pauses again at a
        later step or ends: the tick rewrites the message from the session, which would drop it at once."""
        step = getattr(getattr(self.session, "trainer", None), "global_step", 0)
        self._note, self._note_step = note, int(step or 0)
        self.monitor.message = note  # the next tick puts the session's message before it

    def start(self) -> None:
        self._stop.clear()
        on_state = getattr(self.session, "on_state", None)
        unsubscribe = on_state(self._state_changed) if on_state is not None else None
        self._thread = threading.Thread(target=self._loop, args=(unsubscribe,), name="lepton_nb-live-view",
                                        daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()

    def _state_changed(self, state: str) -> None:
        if not self.session.busy:
            self._wake.set()

    def join(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)

    def _loop(self, unsubscribe: Callable[[], None] | None) -> None:
        cpu0 = time.thread_time()
        first_point = False
        try:
            # poll quickly until the first point is out (a snappy start), then at the wall-clock rate; the run's
            # end wakes the loop at once
            while not self._stop.is_set():
                self._wake.wait(self.period if first_point else min(self.period, 0.05))
                if self._stop.is_set() or not self.session.busy:
                    break
                self._safe_tick()
                first_point = first_point or self.monitor.history.length("batch_loss") > 0
            self._safe_tick()
        finally:  # whatever a view did, the studio learns that the run's views are done
            if unsubscribe is not None:
                unsubscribe()
            self.cpu_seconds = time.thread_time() - cpu0
            if self.on_finish is not None:
                self.on_finish()

    def _safe_tick(self) -> None:
        """A tick whose failure is kept (``error``) and logged once; the feed and the training go on."""
        try:
            self.tick()
        except Exception as exc:
            if self.error is None:
                self.error = f"{type(exc).__name__}: {exc}"
                log.warning("lepton_nb: the live view failed (training goes on): %s\n%s", self.error,
                            traceback.format_exc())

    def progress(self) -> dict[str, Any]:
        """Epoch, step, speed and time left. The speed is the last 3 s of training (none while paused); the time
        left comes from the average speed since the first step, once `TrainingClock` has measured enough."""
        session = self.session
        trainer = session.trainer
        elapsed = time.perf_counter() - session.started_at if session.started_at else 0.0
        if trainer is None:
            return {"elapsed": elapsed}
        per_epoch = len(trainer.train_batches)
        total = max(1, trainer.cfg.epochs * per_epoch)
        step = trainer.global_step
        now = time.perf_counter()
        paused = session.state == "paused"
        self._clock.tick(now, step, paused)
        self._rate = [] if paused else [(ts, s) for ts, s in [*self._rate, (now, step)] if now - ts <= 3.0]
        rate = 0.0
        if len(self._rate) > 1 and self._rate[-1][0] > self._rate[0][0]:
            rate = (self._rate[-1][1] - self._rate[0][1]) / (self._rate[-1][0] - self._rate[0][0])
        return {"epoch": min(step // max(1, per_epoch), trainer.cfg.epochs - 1), "epochs": trainer.cfg.epochs,
                "step": step, "steps": total, "fraction": step / total, "elapsed": elapsed,
                "eta": None if paused else self._clock.eta(total - step),
                "samples_per_s": None if paused else rate * trainer.cfg.batch_size}

    def tick(self) -> None:
        m, s = self.monitor, self.session
        with m._lock, m.hold_sync():
            m.progress = self.progress()
            m.state = s.state
            step = m.progress.get("step", 0) if isinstance(m.progress, dict) else 0
            going = s.state in ("starting", "running")
            if self._note and (not going and (step > self._note_step or s.state not in ACTIVE)):
                self._note = ""  # paused again at a later step, or ended
            m.message = f"{s.message} · {self._note}" if self._note else s.message
        m.push()
        for push in self.also:
            push()
        self.ticks += 1


class TrainingClock:
    """Time left from the average speed since the first step, on the clock of training only.

    The start (the worker loading data, the first batch warming up) is slower than training and would make
    a 65 s run read "11m52s left"; a pause would make every estimate drift. So the clock starts at the
    first step it sees, stops while the run is paused, and gives no estimate before MIN_SECONDS and
    MIN_STEPS of training: the monitor says it is estimating until then. Epoch ends (validation, probes)
    are inside the average, as they are inside the time left.
    """

    MIN_SECONDS = 2.0
    MIN_STEPS = 5

    def __init__(self) -> None:
        self.start: tuple[float, int] | None = None  # (time, step) of the first step seen
        self.paused_for = 0.0
        self._paused_at: float | None = None
        self._now, self._step = 0.0, 0

    def tick(self, now: float, step: int, paused: bool) -> None:
        if paused and self._paused_at is None:
            self._paused_at = now
        elif not paused and self._paused_at is not None:
            self.paused_for += now - self._paused_at if self.start is not None else 0.0
            self._paused_at = None
        if self.start is None and step > 0 and not paused:
            self.start = (now, step)
        self._now, self._step = now, step

    def training_seconds(self) -> float:
        if self.start is None:
            return 0.0
        pause = self.paused_for + (self._now - max(self._paused_at, self.start[0]) if self._paused_at is not None
                                   else 0.0)
        return max(0.0, self._now - self.start[0] - pause)

    def eta(self, steps_left: int) -> float | None:
        """Seconds left for ``steps_left`` steps; None while there is too little to measure."""
        seconds, done = self.training_seconds(), self._step - (self.start[1] if self.start else self._step)
        if seconds < self.MIN_SECONDS or done < self.MIN_STEPS:
            return None
        return steps_left * seconds / done
