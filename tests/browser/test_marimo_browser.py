"""The studio in marimo, in a real browser: the whole studio (tabs, forms, panels), not only its live monitor.

`marimo run` serves a notebook whose cell ends in `studio`. A person sees the tabs, edits the learning rate in
the Training tab (the header, drawn by the kernel from the recipe, follows), presses Start, watches the run
complete with its curves drawn, and finds the run in the Runs tab.
"""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

from tests.browser.conftest import ARTIFACTS, free_port
from tests.browser.helpers import HANG_MS, wait_until

pytestmark = pytest.mark.browser

NOTEBOOK = '''import marimo

app = marimo.App(width="full")


@app.cell
def _():
    import lepton_nb as lnb
    recipe = lnb.Recipe.default().updated({"data.limit": 300, "train.epochs": 3, "interpret.enabled": False})
    studio = lnb.Studio(recipe, out="runs")
    studio
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.fixture
def marimo_app(tmp_path, chromium):
    (tmp_path / "studio_nb.py").write_text(NOTEBOOK)
    port = free_port()
    log = open(tmp_path / "marimo.log", "w")  # noqa: SIM115 - open for the server's whole life
    proc = subprocess.Popen([sys.executable, "-m", "marimo", "run", "studio_nb.py", "--headless",
                             "--host", "127.0.0.1", "--port", str(port)],
                            cwd=tmp_path, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield f"http://127.0.0.1:{port}/"
    finally:
        proc.terminate()  # ends the notebook's kernel (and the studio's worker with it)
        try:
            proc.wait(20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


def test_the_whole_studio_works_in_marimo(bare_page, marimo_app):
    page = bare_page
    wait_until(lambda: _loads(page, marimo_app), step=0.5)
    page.wait_for_selector(".lnb-studio .lm-TabBar-tab", timeout=HANG_MS)  # Jupyter's tabs, in marimo
    tabs = page.locator(".lnb-studio .lm-TabBar-tab").all_inner_texts()
    assert [t.strip() for t in tabs][:3] == ["Data", "Augmentation", "Model"]
    assert page.locator(".lnb-field-data-source select").input_value() == "digits"  # a form, with its value

    page.locator(".lnb-studio .lm-TabBar-tab", has_text="Training").first.click()
    lr = page.locator(".lnb-field-train-lr input").first
    lr.fill("0.02")
    lr.press("Enter")
    studio = page.locator(".lnb-studio").first
    wait_until(lambda: "lr=0.02" in studio.inner_text())  # the kernel took the edit and redrew the header

    page.locator(".lnb-monitor button", has_text="Start").first.click()
    monitor = page.locator(".lnb-monitor").first
    wait_until(lambda: monitor.get_attribute("data-state") == "completed", step=0.2)
    assert int(monitor.get_attribute("data-points") or 0) > 0  # live curves were drawn
    page.screenshot(path=str(ARTIFACTS / "marimo_studio.png"))
    page.locator(".lnb-studio .lm-TabBar-tab", has_text="Runs").first.click()
    wait_until(lambda: page.locator(".lnb-studio select option", has_text="completed").count() == 1)


def _loads(page, url: str) -> bool:
    try:
        page.goto(url, timeout=5_000)  # a probe: the server may not listen yet
        return True
    except Exception:  # the server is still starting
        time.sleep(0.5)
        return False
