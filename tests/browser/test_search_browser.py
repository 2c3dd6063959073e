"""The Search tab in JupyterLab in a real browser: what a person sees when searching.

At 1024 px, Start search sits above the search space (not below ~40 fields, most of which never applied);
clicked, the monitor above the tabs says "searching" with the trials so far (its ▶ Start disabled before any
click); the trials table shows a running trial (its epoch and current value) while it trains in the studio's
worker process, the best-so-far line appears, the report is a link the page opens, Start again on the finished
study says "0 new trials", and Apply best puts the best trial's learning rate into the Training tab's field.
"""

import time

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import CELLS, HANG_MS, MONITOR, open_notebook, run_cell, wait_until

pytestmark = pytest.mark.browser

STUDIO = ".jp-NotebookPanel:not(.lm-mod-hidden) .lnb-studio"
SETUP = ('import lepton_nb as lnb\n'
         'recipe = lnb.Recipe.default().updated({"data.limit": 600, "train.epochs": 15, "model.width": 8,\n'
         '    "interpret.enabled": False, "train.checkpoint": False, "search.trials": 3,\n'
         '    "search.space": {"train.lr": {"log_uniform": [0.001, 0.03]}}})\n'
         'studio = lnb.Studio(recipe, out="runs")\n'
         'studio')
CHECK = ('best = studio.search_panel.study.best_params["train.lr"]\n'
         'print("APPLIED", studio.recipe.train.lr == best, len(studio.runs))')


def test_a_search_from_its_tab_shows_running_trials_and_apply_best_fills_the_forms(page, lab):
    page.set_viewport_size({"width": 1024, "height": 900})
    lab.write_notebook("search.ipynb", [SETUP, CHECK])
    open_notebook(page, lab, "search.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(MONITOR, timeout=HANG_MS)
    page.locator(f"{STUDIO} .lm-TabBar-tab", has_text="Search").first.click()
    start = page.locator(f"{STUDIO} button", has_text="Start search").first
    wait_until(lambda: start.is_enabled())
    first_field = page.locator(f"{STUDIO} .lnb-search-train-lr").first
    start.scroll_into_view_if_needed()
    assert start.bounding_box()["y"] < first_field.bounding_box()["y"]  # before: below every field
    assert page.locator(f"{STUDIO} .lnb-search-model-embed_dim").first.is_hidden()  # a text-only field
    page.screenshot(path=str(ARTIFACTS / "search_tab_1024.png"))
    start.click()
    monitor_start = page.locator(f"{MONITOR} .lnb-start").first
    status = page.locator(f"{MONITOR} .lnb-status").first
    wait_until(lambda: status.inner_text() == "searching")  # before: "idle" or the last run's "error"
    assert monitor_start.is_disabled() and page.locator(f"{MONITOR} .lnb-stop").first.is_enabled()
    page.wait_for_selector(f"{STUDIO} tr.lnb-trial-running", timeout=HANG_MS)  # a trial still training
    running = page.locator(f"{STUDIO} tr.lnb-trial-running").first.inner_text()
    message = page.locator(f"{MONITOR} .lnb-message").first
    wait_until(lambda: "trials finished" in message.inner_text())
    page.screenshot(path=str(ARTIFACTS / "search_running.png"))
    assert "running" in running
    page.wait_for_selector(f"{STUDIO} :text('3 new trials')", timeout=HANG_MS)
    wait_until(lambda: page.locator(f"{STUDIO} tr.lnb-trial-running").count() == 0)
    assert page.locator(f"{STUDIO} tr.lnb-trial").count() == 3
    assert status.inner_text() == "idle" and monitor_start.is_enabled()
    link = page.locator(f"{STUDIO} a[download]", has_text="study report").first
    assert link.get_attribute("href").startswith("data:text/html;base64,")  # before: a server path
    start.click()  # the study is finished: Start says so
    page.wait_for_selector(f"{STUDIO} :text('0 new trials')", timeout=HANG_MS)
    apply = page.locator(f"{STUDIO} button", has_text="Apply best").first
    wait_until(lambda: apply.is_enabled())
    apply.click()
    time.sleep(1.0)
    page.screenshot(path=str(ARTIFACTS / "search_applied.png"))
    run_cell(page, 1)
    out = page.locator(f"{CELLS} [data-mime-type='application/vnd.jupyter.stdout']", has_text="APPLIED")
    out.wait_for(timeout=HANG_MS)
    assert out.inner_text().split() == ["APPLIED", "True", "3"]  # the best lr is in the panels; trials in Runs
