"""Tutorials in a real browser: run-all in JupyterLab shows no error; the quickstart in Notebook 7 and Voila."""

from __future__ import annotations

import re
import shutil
import time
from pathlib import Path

import nbformat
import pytest

from tests.browser.conftest import ARTIFACTS, record_figure, start_server, stop_server
from tests.browser.helpers import CELLS, HANG_MS, MONITOR, points, save, state, wait_until

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
TUTORIALS = sorted((REPO / "notebooks").glob("*.ipynb"))
# the tutorials whose studio shows something the other browser tests do not (figures and peak memory of the
# quickstart, a text studio, a tabular studio, the Search tab); every tutorial's code runs uncapped, with its
# claims, in tests/notebooks, so the rest run here only in `make test-all`
IN_EVERY_RUN = {"01_quickstart", "06_text_sentiment", "07_tabular", "11_hyperparameter_search"}
QUICK = {"LEPTON_NB_MAX_EPOCHS": "3"}


@pytest.fixture(scope="module")
def tutorials_root(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tutorials")
    shutil.copytree(REPO / "notebooks", root / "notebooks")
    return root


@pytest.fixture(scope="module")
def quick_lab(tutorials_root, chromium):
    server = start_server(tutorials_root, "jupyterlab", QUICK)
    yield server
    stop_server(server)


@pytest.fixture
def lab_kernels(quick_lab):
    """The quick lab, with every kernel shut down after the test whether it passed or failed (a leaked kernel
    would keep training and slow the next tests)."""
    yield quick_lab
    quick_lab.shutdown_kernels()


def run_all(page) -> None:
    page.locator(".lm-MenuBar-item", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-item", has_text="Run All Cells").first.click()


def code_cells_done(page) -> bool:
    prompts = page.locator(f"{CELLS}.jp-CodeCell .jp-InputArea-prompt").all_inner_texts()
    return bool(prompts) and all(re.search(r"\[\d+\]", p) for p in prompts)


def saved_errors(path: Path) -> list[str]:
    nb = nbformat.read(path, as_version=4)
    return [f"{o.get('ename')}: {o.get('evalue')}" for c in nb.cells for o in c.get("outputs", [])
            if o.get("output_type") == "error" or (o.get("name") == "stderr" and "Traceback" in o.get("text", ""))]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("path", [p if p.stem in IN_EVERY_RUN else pytest.param(p, marks=pytest.mark.extended)
                                  for p in TUTORIALS], ids=[p.stem for p in TUTORIALS])
def test_tutorial_run_all_in_jupyterlab_shows_no_error(path, lab_kernels, bare_page):
    quick_lab = lab_kernels
    page = bare_page
    page.goto(quick_lab.url(f"notebooks/{path.name}"))
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=HANG_MS)
    time.sleep(1.0)
    t0 = time.monotonic()
    run_all(page)
    if path.stem == "01_quickstart":
        page.wait_for_selector(MONITOR, timeout=HANG_MS)
        wait_until(lambda: points(page) > 0)
        record_figure("quickstart_kernel_ready_to_first_live_point_s", time.monotonic() - t0)
    wait_until(lambda: code_cells_done(page), step=0.25)
    wait_until(lambda: page.locator(".jp-Notebook-ExecutionIndicator[data-status='idle']").count() > 0)
    if page.locator(MONITOR).count():
        wait_until(lambda: state(page) in ("completed", "idle"))
    if path.stem == "01_quickstart":
        page.keyboard.press("Escape")
        page.keyboard.press("b")  # a new cell below: measure the kernel's peak memory
        page.keyboard.press("Enter")
        page.keyboard.type("import resource; "
                           "print('PEAK_RSS_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
        page.keyboard.press("Shift+Enter")
        out = page.locator(".jp-OutputArea-output", has_text="PEAK_RSS_MB")
        out.wait_for(timeout=HANG_MS)
        peak = int(re.search(r"PEAK_RSS_MB (\d+)", out.inner_text()).group(1))
        record_figure("quickstart_kernel_peak_rss_mb", peak)
        assert peak < 1536
    save(page, quick_lab.root / "notebooks" / path.name)
    page.screenshot(path=str(ARTIFACTS / f"tutorial-{path.stem}.png"), full_page=False)
    assert saved_errors(quick_lab.root / "notebooks" / path.name) == []
    assert page.locator(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                        has_text="Traceback").count() == 0


def test_quickstart_in_notebook_7(tutorials_root, bare_page, chromium):
    server = start_server(tutorials_root, "notebook", QUICK)
    errors: list[str] = []  # the page's console errors: a widget that fails to render says why there
    try:
        page = bare_page
        page.on("console", lambda m: errors.append(m.text[:500]) if m.type == "error" else None)
        page.goto(f"http://127.0.0.1:{server.port}/notebooks/notebooks/01_quickstart.ipynb?token={server.token}")
        page.wait_for_selector(".jp-Notebook", timeout=HANG_MS)
        page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=HANG_MS)
        time.sleep(1.0)
        run_all(page)
        monitor = ".lnb-monitor"
        try:
            page.wait_for_selector(monitor, timeout=HANG_MS)
            wait_until(lambda: int(page.locator(monitor).get_attribute("data-points") or 0) > 0)
            wait_until(lambda: page.locator(monitor).get_attribute("data-state") == "completed")
        except Exception as exc:
            raise AssertionError(f"the live monitor did not show the run; console errors: {errors}") from exc
        page.screenshot(path=str(ARTIFACTS / "notebook7-quickstart.png"))
    finally:
        stop_server(server)


def test_quickstart_as_a_voila_dashboard_and_start_works(tutorials_root, bare_page, chromium):
    # the notebook picks lepton_nb's template (its metadata); this checkout's copy of it, also where the package
    # is installed from another checkout
    templates = {"JUPYTER_PATH": str(REPO / "share" / "jupyter")}
    server = start_server(tutorials_root, "voila", {**QUICK, **templates}, ("notebooks/01_quickstart.ipynb",))
    try:
        page = bare_page
        elsewhere = []  # every request that leaves the server, the icon font's included
        page.on("request", lambda r: elsewhere.append(r.url) if not r.url.startswith(
            ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:")) else None)
        # Voilà answers as it runs the cells: wait for what the page shows, not for the whole document
        page.goto(f"http://127.0.0.1:{server.port}/", wait_until="commit", timeout=HANG_MS)
        monitor = ".lnb-monitor"
        page.wait_for_selector(monitor, timeout=HANG_MS)
        read = lambda key: page.locator(monitor).get_attribute(key)  # noqa: E731
        page.wait_for_selector("#loading", state="detached", timeout=HANG_MS)  # every cell has run
        page.wait_for_timeout(3000)
        assert read("data-state") == "idle" and int(read("data-points") or 0) == 0  # loading never trains
        assert "press ▶ Start" in page.locator(monitor).inner_text()
        assert not page.get_by_text("True", exact=True).count()  # no stray return values
        assert not page.get_by_text("studio.start()", exact=True).is_visible()  # a dashboard: no code shown
        assert "next cell" not in page.locator("body").inner_text()  # no cell to run in a dashboard
        icon = page.locator(".lnb-studio button i.fa").first  # button icons still draw, from Voilà's own bundle
        assert icon.evaluate("i => getComputedStyle(i, '::before').content") not in ("none", "normal", "")
        assert page.evaluate("async () => { await document.fonts.ready; return [...document.fonts].some("
                             "f => /awesome/i.test(f.family) && f.status === 'loaded'); }")
        page.locator(f"{monitor} .lnb-start").click()  # the visitor's click starts the run
        wait_until(lambda: read("data-state") in ("starting", "running"))
        wait_until(lambda: read("data-state") == "completed")
        assert int(read("data-points")) > 0
        page.wait_for_selector(".lnb-snapshot img", timeout=HANG_MS)  # the run's summary, drawn after the page ran
        assert elsewhere == []  # the studio's front end is served by the kernel's server: no CDN
        page.screenshot(path=str(ARTIFACTS / "voila-quickstart.png"))
    finally:
        stop_server(server)
