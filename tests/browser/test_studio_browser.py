"""The studio in JupyterLab in a real browser: what a person sees and clicks."""

import time

import nbformat
import pytest

from tests.browser.conftest import ARTIFACTS, record_figure
from tests.browser.helpers import (
    CELLS,
    HANG_MS,
    MONITOR,
    cell_busy,
    open_notebook,
    points,
    run_cell,
    save,
    state,
    wait_until,
)

pytestmark = pytest.mark.browser

STUDIO = ('import lepton_nb as lnb\n'
          'studio = lnb.Studio(lnb.Recipe.default().updated({{"train.epochs": {epochs}}}), out="runs")\n'
          'studio')


# keeps the main shell busy until the test creates the file "release" (not for a fixed time: a loaded machine
# may need longer for the Stop click to travel)
BUSY_CELL = 'import os, time\nwhile not os.path.exists("release"):\n    time.sleep(0.05)\nprint("slept")'


def start_studio(page, lab, name, epochs, more=()):
    lab.write_notebook(name, [STUDIO.format(epochs=epochs), BUSY_CELL, *more])
    open_notebook(page, lab, name)
    run_cell(page, 0)
    page.wait_for_selector(MONITOR, timeout=HANG_MS)
    page.wait_for_function(f"() => !document.querySelector('{MONITOR} .lnb-start').disabled", timeout=HANG_MS)
    time.sleep(2.5)  # a person reads the panels before pressing Start


def saved_html(page, lab, name, cell):
    """Save the notebook as a person does (Ctrl+S) and read back the HTML outputs of one cell from the file."""
    save(page, lab.root / name)
    saved = nbformat.read(lab.root / name, as_version=4)
    return [o.get("data", {}).get("text/html", "") for o in saved.cells[cell].outputs]


def test_start_shows_live_points_and_stop_works_while_another_cell_sleeps(page, lab):
    start_studio(page, lab, "stop.ipynb", epochs=300)
    page.screenshot(path=str(ARTIFACTS / "01_studio_opened.png"))
    page.locator(f"{MONITOR} .lnb-start").click()
    record_figure("click_start_to_first_point_on_screen_s", wait_until(lambda: points(page) > 0))
    wait_until(lambda: points(page) > 200)
    page.screenshot(path=str(ARTIFACTS / "02_training_live.png"))

    run_cell(page, 1)  # the main shell busy until the test says
    wait_until(lambda: cell_busy(page, 1))
    time.sleep(0.5)
    page.locator(f"{MONITOR} .lnb-stop").click()
    stop_s = wait_until(lambda: state(page) in ("finishing", "stopped"), step=0.01)
    record_figure("stop_click_to_stopped_while_cell_sleeps_s", stop_s)
    assert cell_busy(page, 1)  # Stop acted while the main shell was busy (the figure above says how fast)
    wait_until(lambda: state(page) == "stopped")
    frozen = points(page)
    time.sleep(1.0)
    assert points(page) == frozen
    page.screenshot(path=str(ARTIFACTS / "03_stopped_during_sleep.png"))
    (lab.root / "release").touch()
    wait_until(lambda: not cell_busy(page, 1))


def test_reload_mid_run_recovers_the_whole_curve(page, lab):
    start_studio(page, lab, "reload.ipynb", epochs=100_000)  # still running after the reload, however slow
    page.locator(f"{MONITOR} .lnb-start").click()
    wait_until(lambda: points(page) > 300)
    save(page, lab.root / "reload.ipynb")
    before = points(page)
    page.reload()
    page.wait_for_selector(MONITOR, timeout=HANG_MS)
    record_figure("reload_to_recovered_curve_s", wait_until(lambda: points(page) >= before))
    after = points(page)
    wait_until(lambda: points(page) > after)  # and it keeps updating
    assert state(page) == "running"
    page.screenshot(path=str(ARTIFACTS / "04_after_reload.png"))
    page.locator(f"{MONITOR} .lnb-stop").click()
    wait_until(lambda: state(page) == "stopped")


def test_after_a_reload_the_studio_says_the_summary_is_stale_and_snapshot_puts_it_in_the_notebook(page, lab):
    start_studio(page, lab, "reload-snapshot.ipynb", epochs=12, more=["studio.snapshot()"])
    page.locator(f"{MONITOR} .lnb-start").click()
    wait_until(lambda: points(page) > 0)
    save(page, lab.root / "reload-snapshot.ipynb")
    page.reload()  # Jupyter forgets the display id of the summary under the studio
    page.wait_for_selector(MONITOR, timeout=HANG_MS)
    wait_until(lambda: state(page) == "completed")
    wait_until(lambda: "studio.snapshot()" in page.locator(MONITOR).inner_text())  # said where one looks
    run_cell(page, 2)
    page.locator(CELLS).nth(2).locator(".lnb-snapshot img").wait_for(timeout=HANG_MS)
    page.screenshot(path=str(ARTIFACTS / "06_snapshot_after_reload.png"))
    html = saved_html(page, lab, "reload-snapshot.ipynb", 2)
    assert any("lnb-snapshot" in h and "data:image/png;base64" in h and "completed" in h for h in html)


def test_finished_run_leaves_a_static_snapshot_in_the_saved_notebook(page, lab):
    start_studio(page, lab, "snapshot.ipynb", epochs=3)
    page.locator(f"{MONITOR} .lnb-start").click()
    wait_until(lambda: state(page) == "completed")
    page.wait_for_selector(".lnb-snapshot img", timeout=HANG_MS)
    page.locator(".lnb-snapshot").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "05_snapshot.png"))
    assert not page.locator(".lnb-reopened-note").is_visible()  # a live studio hides the note for a reopened one
    html = saved_html(page, lab, "snapshot.ipynb", 0)
    assert any("lnb-snapshot" in h and "data:image/png;base64" in h and "accuracy" in h for h in html)
    lab.shutdown_kernels()  # the notebook reopened later: the kernel that drew the studio is gone
    page.reload()
    page.wait_for_selector(".lnb-snapshot img", timeout=60_000)  # the saved summary
    note = page.locator(".lnb-reopened-note")
    note.wait_for(state="visible", timeout=30_000)
    assert "harmless" in note.inner_text()
    # what the note speaks of, above it (JupyterLab's own words, once the new kernel is up)
    page.get_by_text("Error displaying widget: model not found", exact=True).first.wait_for(timeout=60_000)
    note.scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "05b_reopened_without_its_kernel.png"))


def test_interpret_tab_shows_the_attribution_timeline_and_explanations(page, lab):
    start_studio(page, lab, "interpret.ipynb", epochs=40)
    page.locator(f"{MONITOR} .lnb-start").click()
    page.locator(".jp-NotebookPanel:not(.lm-mod-hidden) .lm-TabBar-tab", has_text="Interpret").click()
    timeline = ".jp-NotebookPanel:not(.lm-mod-hidden) .lnb-attr"
    page.wait_for_selector(f"{timeline} .lnb-tile canvas", timeout=HANG_MS)
    wait_until(lambda: int(page.locator(timeline).get_attribute("data-frames")) >= 1)
    live_frames = int(page.locator(timeline).get_attribute("data-frames"))
    assert state(page) == "running"  # tiles arrive while training runs
    wait_until(lambda: state(page) == "completed")
    wait_until(lambda: int(page.locator(timeline).get_attribute("data-frames")) > live_frames)
    frames = 0
    while frames != int(page.locator(timeline).get_attribute("data-frames")):  # the last frames have arrived
        frames = int(page.locator(timeline).get_attribute("data-frames"))
        time.sleep(1.5)
    assert frames >= 3 and page.locator(f"{timeline} .lnb-tile").count() == 8
    page.locator(f"{timeline} .lnb-epoch").fill("0")
    first_epoch = page.locator(timeline).get_attribute("data-epoch")
    page.locator(f"{timeline} .lnb-epoch").fill(str(frames - 1))
    assert page.locator(timeline).get_attribute("data-epoch") != first_epoch
    page.locator(f"{timeline} .lnb-play").click()  # at the last frame: Play starts over and shows the first
    assert page.locator(timeline).get_attribute("data-epoch") == first_epoch
    wait_until(lambda: page.locator(timeline).get_attribute("data-epoch") != first_epoch)
    page.locator(timeline).scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "06_attribution_timeline.png"))
    page.get_by_role("button", name="Explain").click()
    page.wait_for_selector(".jp-NotebookPanel:not(.lm-mod-hidden) .lnb-explain-image[src^='blob:']", timeout=HANG_MS)
    page.get_by_role("button", name="Explain").scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / "07_interpret_explain.png"))


HOSTILE = "<img src=x onerror=alert(1)>"


def test_class_and_feature_names_from_the_data_render_as_text(page, lab):
    """A CSV whose label and column names are HTML shows them literally: nothing is injected, nothing runs."""
    rows = ["size,<b>weight</b>,label"] + [f"{i % 7 + (10 if i % 2 else 0)},{i % 5},{HOSTILE if i % 2 else 'ok'}"
                                           for i in range(120)]
    (lab.root / "hostile.csv").write_text("\n".join(rows) + "\n")
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    setup = ('import lepton_nb as lnb\n'
             'r = lnb.Recipe.preset("wine").updated({"data.source": "csv", "data.path": "hostile.csv", '
             '"train.epochs": 3, "name": "hostile"})\n'
             'studio = lnb.Studio(r, out="runs")\n'
             'assert studio.start() and studio.wait(180)\n'
             'studio.show_tab("Evaluation")\n'
             'studio')
    lab.write_notebook("hostile.ipynb", [setup, 'studio.show_tab("Interpret")'])
    open_notebook(page, lab, "hostile.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(".lnb-confusion table", timeout=HANG_MS)
    headers = page.locator(".lnb-confusion th").all_inner_texts()
    assert HOSTILE in headers and page.locator(".lnb-confusion img").count() == 0
    run_cell(page, 1)
    page.wait_for_selector(".lnb-caption b", timeout=HANG_MS)
    captions = " ".join(page.locator(".lnb-caption").all_inner_texts())
    assert HOSTILE in captions or "ok" in captions
    names = page.locator(".lnb-bar-name").all_inner_texts()
    assert "<b>weight</b>" in names or "size" in names
    assert page.locator(".lnb-studio img[src='x']").count() == 0 and page.locator(".lnb-bar-name b").count() == 0
    time.sleep(1.0)
    assert dialogs == []
    page.screenshot(path=str(ARTIFACTS / "hostile-names-as-text.png"))


COLAB_LIKE = ('import threading\n'
              'local = threading.local()  # set while the kernel handles one of the page\'s own messages\n'
              'comm = studio.monitor.comm\n'
              'handle, send = comm._msg_callback, comm.send\n'
              'def handling(msg):\n'
              '    local.on = True\n'
              '    try:\n'
              '        handle(msg)\n'
              '    finally:\n'
              '        local.on = False\n'
              'comm._msg_callback = handling\n'
              'comm.send = lambda *a, **k: send(*a, **k) if getattr(local, "on", False) else None')


def test_curves_grow_where_the_page_draws_nothing_sent_from_the_training_thread(page, lab):
    """Google Colab does not draw what the kernel sends from a background thread. Emulated here by dropping
    every message of the monitor except the kernel's answers to the page's own messages: the view asks while
    a run is busy, and the answers keep it live."""
    start_studio(page, lab, "colab.ipynb", epochs=4, more=(COLAB_LIKE,))
    run_cell(page, 2)
    wait_until(lambda: not cell_busy(page, 2))
    page.locator(f"{MONITOR} .lnb-start").click()
    wait_until(lambda: points(page) > 0)
    wait_until(lambda: state(page) == "completed")
    pulls = int(page.locator(MONITOR).first.get_attribute("data-pulls") or 0)
    assert pulls > 0 and points(page) > 20, (pulls, points(page))
