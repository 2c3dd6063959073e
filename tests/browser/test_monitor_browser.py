"""The live monitor's own drawing, in a real browser without a notebook server: axes a student can read and a
progress line that tells the truth at the start of a run and while it is paused."""

from __future__ import annotations

import pytest

from lepton_nb.ui.views.live import LiveMonitor

pytestmark = pytest.mark.browser

SOURCE = LiveMonitor._esm  # the module exactly as the widget ships it (access.js and live_monitor.js)

# the monitor rendered on a stand-in for its widget model; `feed` sends it what the kernel would
HARNESS = """async ([src, status, series]) => {
  const m = await import(URL.createObjectURL(new Blob([src], {type: "text/javascript"})));
  const listeners = {};
  const state = {state: "idle", message: "", progress: {}, can_start: true, start_hint: "", marks: [],
                 panels: [{title: "learning rate", series: ["lr"], ymin: 0}], styles: {lr: {label: "lr"}}};
  Object.assign(state, status);
  const model = {get: (k) => state[k], set: (k, v) => { state[k] = v; }, send: () => {}, off: () => {},
                 save_changes: () => {}, on: (ev, cb) => { (listeners[ev] ||= []).push(cb); }};
  const el = document.createElement("div");
  el.style.width = "420px";
  document.body.replaceChildren(el);
  m.default.render({model, el});
  for (const cb of listeners["msg:custom"] || []) cb({type: "reset", series});
  await new Promise((done) => requestAnimationFrame(() => requestAnimationFrame(done)));
  return {progress: el.querySelector(".lnb-progress-text").textContent,
          yticks: el.querySelector(".lnb-panel").dataset.yticks.split("|")};
}"""


@pytest.fixture
def monitor(bare_page):
    def show(status, y, x0=0.0, dx=1.0):
        return bare_page.evaluate(HARNESS, [SOURCE, status, {"lr": {"y": y, "x0": x0, "dx": dx, "n": len(y)}}])

    bare_page.goto("about:blank")
    return show


def test_one_point_of_learning_rate_gets_an_axis_around_it(monitor):
    ticks = [float(t) for t in monitor({}, [0.005])["yticks"]]
    assert ticks and all(0.004 <= t <= 0.006 for t in ticks)  # never −0.4 … 0.4 around a small number
    assert len(set(ticks)) == len(ticks)


def test_close_values_get_distinct_tick_labels(monitor):
    labels = monitor({}, [0.00051 + 0.00002 * i / 99 for i in range(100)])["yticks"]
    assert len(labels) >= 3 and len(set(labels)) == len(labels)  # no label repeated


def test_the_progress_line_estimates_first_and_says_paused(monitor):
    start = {"epoch": 0, "epochs": 12, "step": 3, "steps": 240, "fraction": 0.01, "elapsed": 4.0, "eta": None,
             "samples_per_s": 200.0}
    text = monitor({"state": "running", "progress": start}, [0.001])["progress"]
    assert "estimating" in text and "11m" not in text  # no guess before the speed is measured
    later = {**start, "step": 120, "eta": 31.0}
    assert "about 31s left" in monitor({"state": "running", "progress": later}, [0.001])["progress"]
    paused = {**later, "eta": None, "samples_per_s": None}
    text = monitor({"state": "paused", "progress": paused}, [0.001])["progress"]
    assert "paused" in text and "samples/s" not in text and "left" not in text
