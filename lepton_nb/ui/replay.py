"""`lnb.replay`: a finished run played back in the live monitor — curves, attribution frames and mid-run
changes — without training, at any speed. For a teacher's demo on a slow machine or a projector.

The replay copies the stored history into a fresh one step by step, paced by the run's own duration
divided by ``speed``; the monitor and the timeline follow it exactly as they follow a training run.
"""

from __future__ import annotations

import html
import threading
import time
from pathlib import Path

import ipywidgets as W
import numpy as np

from ..artifacts import Run, load_run
from ..artifacts.run_folder import RunFolder
from ..errors import UsageError
from ..training.history import History
from .midrun import change_marks
from .render import MUTED
from .views.live import LiveMonitor, panels_for
from .views.timeline import AttributionTimeline


class Replay:
    """Plays ``run`` (a Run or a run folder) in a live monitor; ▶ Start replays, ⏸ pauses, ■ stops."""

    def __init__(self, run: Run | str | Path, speed: float = 10.0, hz: float = 10.0):
        if not isinstance(speed, (int, float)) or not 0 < speed <= 10_000:
            raise UsageError("speed", speed, "allowed: a number above 0 (1 = as fast as the run trained)")
        self.run = run if isinstance(run, Run) else load_run(run)
        self.speed, self.period = float(speed), 1.0 / hz
        self.source = self.run.history
        self.frames = list(self.source.artifacts.get("attributions", []))
        if not self.frames and self.run.dir is not None:
            self.frames = RunFolder(self.run.dir).read_timeline()
        self.history = History()
        self.monitor = LiveMonitor()
        adversarial = self.run.recipe.train.adversarial.method != "none"
        self.monitor.panels = panels_for(adversarial)
        self.monitor.on_command("start", self.play)
        self.monitor.on_command("pause", lambda: self._paused.set())
        self.monitor.on_command("resume", lambda: self._paused.clear())
        self.monitor.on_command("stop", self.stop)
        self.timeline = AttributionTimeline()
        self._stop, self._paused = threading.Event(), threading.Event()
        self._done = threading.Event()
        self._done.set()
        self._thread: threading.Thread | None = None
        title = (f"<b>replay</b> · {html.escape(self.run.name)} · <span style='{MUTED}'>"
                 f"{html.escape(self.run.recipe.summary())} · {self.speed:g}× speed, nothing is trained</span>")
        self.widget = W.VBox([W.HTML(title), self.monitor, W.HTML("<h4>Attribution timeline</h4>"), self.timeline])

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    @property
    def last_step(self) -> float:
        ends = [self.source.series(n)[0][-1] for n in self.source.names() if self.source.length(n)]
        return float(max(ends)) if ends else 0.0

    def play(self) -> bool:
        """Start (or restart) the replay in the background; False while one is playing."""
        if not self._done.is_set():
            return False
        self._stop.clear()
        self._paused.clear()
        self._done.clear()
        self.history = History()
        self.history.meta = {k: v for k, v in self.source.meta.items() if k in ("probes",)}
        self.monitor.marks = []
        self.monitor.bind(self.history)
        probes = self.source.meta.get("probes")
        self.timeline.bind(self.history, (lambda: self.run.load_data()) if probes and self.frames else None)
        self._thread = threading.Thread(target=self._play, name="lepton_nb-replay", daemon=True)
        self._thread.start()
        return True

    def stop(self) -> None:
        self._stop.set()
        self._paused.clear()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the replay has ended (True) or ``timeout`` seconds pass."""
        return self._done.wait(timeout)

    def _copy_until(self, step: float, sent: dict[str, int]) -> None:
        for name in self.source.names():
            x, y = self.source.series(name)
            start, end = sent.get(name, 0), int(np.searchsorted(x, step, side="right"))
            for i in range(start, end):
                self.history.log(name, float(x[i]), float(y[i]))
            sent[name] = max(start, end)
        while len(self.history.epochs) < len(self.source.epochs) and \
                self.source.epochs[len(self.history.epochs)].get("step", 0) <= step:
            self.history.log_epoch(self.source.epochs[len(self.history.epochs)])
        done = len(self.history.artifacts.get("attributions", []))
        for frame in self.frames[done:]:
            if frame.get("step", 0) > step:
                break
            self.history.add_artifact("attributions", frame)
        changes = [c for c in self.source.meta.get("changes", []) if c["step"] <= step]
        if len(changes) != len(self.history.meta.get("changes", [])):
            self.history.meta["changes"] = changes
            self.monitor.marks = change_marks(changes)

    def _play(self) -> None:
        m, last = self.monitor, self.last_step
        duration = max(1.0, self.run.seconds / self.speed)
        epochs = max(1, len(self.source.epochs))
        sent: dict[str, int] = {}
        played, t0 = 0.0, time.perf_counter()
        try:
            m.state, m.message = "running", f"replaying {self.run.name} at {self.speed:g}×"
            while played < duration and not self._stop.is_set():
                time.sleep(self.period)
                if self._paused.is_set():
                    m.state = "paused"
                    t0 = time.perf_counter() - played
                    continue
                m.state = "running"
                played = time.perf_counter() - t0
                step = last * min(1.0, played / duration)
                self._copy_until(step, sent)
                m.progress = {"fraction": step / max(1.0, last), "step": int(step), "steps": int(last),
                              "epoch": min(len(self.history.epochs), epochs - 1), "epochs": epochs,
                              "elapsed": played}
                m.push()
                self.timeline.push()
            if not self._stop.is_set():
                self._copy_until(last, sent)
                m.push()
                self.timeline.push()
            m.state = self.run.status if not self._stop.is_set() else "stopped"
            m.message = f"replay of {self.run.name} ({self.run.status}) finished" if not self._stop.is_set() \
                else "replay stopped"
        finally:
            self._done.set()


def replay(run: Run | str | Path, speed: float = 10.0, *, start: bool = True) -> Replay:
    """Play a finished run (a `Run` or a run folder) in the live monitor at ``speed``× its training time."""
    r = Replay(run, speed)
    if start:
        r.play()
    return r


__all__ = ["Replay", "replay"]
