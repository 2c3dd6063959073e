import contextvars
import json
import threading
from types import SimpleNamespace

import ipywidgets

from lepton_nb.training.history import History
from lepton_nb.ui.views import live
from lepton_nb.ui.views.live import MAX_POINTS_ON_RESET, LiveFeed, LiveMonitor, panels_for


def capture(monitor):
    sent = []
    monitor.send = lambda content, buffers=None: sent.append(json.loads(json.dumps(content)))
    return sent


def filled(n):
    h = History()
    for i in range(n):
        h.log_many(i + 1, {"batch_loss": 1.0 / (i + 1), "lr": 0.01})
    return h


def test_push_sends_only_new_points():
    h = filled(5)
    m = LiveMonitor(h)
    sent = capture(m)
    m.send_reset()
    assert sent[-1]["type"] == "reset" and sent[-1]["series"]["batch_loss"]["n"] == 5
    assert m.push() == 0  # nothing new
    h.log_many(6, {"batch_loss": 0.1, "lr": 0.01})
    m.push()
    msg = sent[-1]
    assert msg["type"] == "append"
    assert msg["series"]["batch_loss"] == {"start": 5, "x0": 6.0, "dx": 0.0, "y": [0.1], "n": 1}
    assert set(msg["series"]) == {"batch_loss", "lr"}


def test_update_size_does_not_grow_with_the_run():
    sizes = {}
    for n in (1_000, 100_000):
        h = filled(n)
        m = LiveMonitor(h)
        capture(m)
        m.send_reset()
        for k in range(10):
            h.log_many(n + k + 1, {"batch_loss": 0.5 + k * 1e-3, "lr": 0.01})
        sizes[n] = m.push()
    assert sizes[100_000] <= 1.1 * sizes[1_000]


def test_reset_is_bounded_and_nan_is_sent_as_null():
    h = filled(50_000)
    h.log("val_loss", 10, float("nan"))
    m = LiveMonitor(h)
    sent = capture(m)
    m.send_reset()
    s = sent[-1]["series"]
    assert len(s["batch_loss"]["y"]) <= MAX_POINTS_ON_RESET and s["batch_loss"]["n"] == 50_000
    assert len(s["batch_loss"]["x"]) == len(s["batch_loss"]["y"])  # decimated: no longer evenly spaced
    assert s["val_loss"]["y"] == [None]


def test_hello_resends_everything_and_commands_call_handlers():
    m = LiveMonitor(filled(3))
    sent = capture(m)
    calls = []
    m.on_command("stop", lambda: calls.append("stop"))
    m._handle_custom_msg({"type": "hello"}, [])
    m._handle_custom_msg({"type": "command", "name": "stop"}, [])
    m._handle_custom_msg({"type": "command", "name": "unknown"}, [])
    m._handle_custom_msg("garbage", [])
    assert sent[-1]["type"] == "reset" and calls == ["stop"]


def test_messages_are_sent_in_the_context_of_the_last_front_end_message(monkeypatch):
    """The comm's replies route the next click to the kernel subshell that handled `hello`."""
    marker = contextvars.ContextVar("marker", default="plain thread")
    seen = []
    monkeypatch.setattr(ipywidgets.Widget, "_send", lambda self, msg, buffers=None: seen.append(marker.get()))
    m = LiveMonitor(filled(3))
    m.state = "running"
    assert len(seen) >= 1 and set(seen) == {"plain thread"}  # before any front-end message: the plain context
    seen.clear()

    def on_subshell():
        marker.set("subshell")
        m._handle_custom_msg({"type": "hello"}, [])

    contextvars.copy_context().run(on_subshell)
    t = threading.Thread(target=lambda: (m.history.log_many(9, {"batch_loss": 0.1}), m.push(),
                                         setattr(m, "state", "paused")))
    t.start()
    t.join()
    assert len(seen) == 3 and set(seen) == {"subshell"}  # reset, append, and a trait sync


def test_a_pull_answers_with_the_points_the_view_lacks_and_the_status():
    h = filled(5)
    m = LiveMonitor(h)
    sent = capture(m)
    m.state, m.progress = "running", {"epoch": 1, "epochs": 3}
    m._handle_custom_msg({"type": "pull", "known": {"batch_loss": 3, "lr": 5}}, [])
    msg = sent[-1]
    assert msg["type"] == "pulled"
    assert msg["series"] == {"batch_loss": {"start": 3, "x0": 4.0, "dx": 1.0, "y": [0.25, 0.2], "n": 2}}
    assert msg["status"]["state"] == "running" and msg["status"]["progress"] == {"epoch": 1, "epochs": 3}
    m._handle_custom_msg({"type": "pull", "known": {"batch_loss": "x", "lr": -2}}, [])  # garbage: from 0
    assert sent[-1]["series"]["batch_loss"]["n"] == 5 and sent[-1]["series"]["lr"]["start"] == 0
    sent.clear()
    m._handle_custom_msg({"type": "pull", "known": {"batch_loss": 99}}, [])  # the view shows another run
    assert [s["type"] for s in sent] == ["reset", "pulled"]


def test_after_a_pull_the_next_push_goes_on_from_what_the_view_has():
    h = filled(5)
    m = LiveMonitor(h)
    sent = capture(m)
    m.send_reset()
    h.log_many(6, {"batch_loss": 0.1, "lr": 0.01})
    m._handle_custom_msg({"type": "pull", "known": {"batch_loss": 5, "lr": 5}}, [])
    assert sent[-1]["series"]["batch_loss"]["start"] == 5
    assert m.push() == 0  # the pull carried point 6 already
    h.log_many(7, {"batch_loss": 0.05, "lr": 0.01})
    m.push()
    assert sent[-1]["series"]["batch_loss"]["start"] == 6


class Clock:
    def __init__(self):
        self.now = 0.0

    def __call__(self):
        return self.now


def test_time_left_is_measured_on_training_alone_and_a_pause_stops_the_clock(monkeypatch):
    clock = Clock()
    monkeypatch.setattr(live.time, "perf_counter", clock)
    trainer = SimpleNamespace(train_batches=[None] * 10, cfg=SimpleNamespace(epochs=5, batch_size=32), global_step=0)
    session = SimpleNamespace(trainer=trainer, started_at=0.5, state="running")
    feed = LiveFeed(LiveMonitor(), session)

    def at(t, step, state="running"):
        clock.now, trainer.global_step, session.state = t, step, state
        return feed.progress()

    at(0.0, 0)
    assert at(6.0, 1)["eta"] is None  # 6 s of loading data and a slow first batch: nothing measured yet
    for k in range(1, 16):  # then 10 steps a second
        p = at(6.0 + k / 10, 1 + k)
    assert p["eta"] is None  # 1.5 s of training: still estimating, never "11m52s" for a short run
    p = at(9.0, 31)
    assert abs(p["eta"] - (50 - 31) / 10) < 0.01 and abs(p["samples_per_s"] - 320) < 1
    paused = at(10.0, 41, "paused")
    assert paused["eta"] is None and paused["samples_per_s"] is None  # a paused run has no speed
    assert at(70.0, 41, "paused")["samples_per_s"] is None  # ... however long it stays paused
    at(100.0, 41)  # resumed
    p = at(100.5, 46)
    assert abs(p["eta"] - (50 - 46) / 10) < 0.01  # the pause did not count as time spent training
    assert p["elapsed"] == 100.0  # the wall clock since Start still says how long it has been


def test_the_learning_rate_axis_never_goes_below_zero():
    assert all(p.get("ymin") == 0 for p in panels_for(False) + panels_for(True, True) if p["series"] == ["lr"])
