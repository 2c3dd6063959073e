"""The Search tab in JupyterLab in a real browser: what a person sees when searching.

Start search is clicked in the tab; the trials table shows a running trial (its epoch and current value) while
it trains in the studio's worker process, the best-so-far line appears, and Apply best puts the best trial's
learning rate into the Training tab's field.
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
    lab.write_notebook("search.ipynb", [SETUP, CHECK])
    open_notebook(page, lab, "search.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(MONITOR, timeout=HANG_MS)
    page.locator(f"{STUDIO} .lm-TabBar-tab", has_text="Search").first.click()
    start = page.locator(f"{STUDIO} button", has_text="Start search").first
    wait_until(lambda: start.is_enabled())
    start.click()
    page.wait_for_selector(f"{STUDIO} tr.lnb-trial-running", timeout=HANG_MS)  # a trial still training
    running = page.locator(f"{STUDIO} tr.lnb-trial-running").first.inner_text()
    page.screenshot(path=str(ARTIFACTS / "search_running.png"))
    assert "running" in running
    page.wait_for_selector(f"{STUDIO} :text('best val_accuracy')", timeout=HANG_MS)
    wait_until(lambda: page.locator(f"{STUDIO} tr.lnb-trial-running").count() == 0)
    rows = page.locator(f"{STUDIO} tr.lnb-trial").count()
    assert rows == 3
    apply = page.locator(f"{STUDIO} button", has_text="Apply best").first
    wait_until(lambda: apply.is_enabled())
    apply.click()
    time.sleep(1.0)
    page.screenshot(path=str(ARTIFACTS / "search_applied.png"))
    run_cell(page, 1)
    out = page.locator(f"{CELLS} [data-mime-type='application/vnd.jupyter.stdout']", has_text="APPLIED")
    out.wait_for(timeout=HANG_MS)
    assert out.inner_text().split() == ["APPLIED", "True", "3"]  # the best lr is in the panels; trials in Runs
