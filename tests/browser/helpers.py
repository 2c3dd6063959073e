"""Page helpers for JupyterLab: open a notebook, run a cell, read the live monitor."""

from __future__ import annotations

import json
import time

from tests.conftest import HANG_S

HANG_MS = HANG_S * 1000  # Playwright counts milliseconds
MONITOR = ".jp-NotebookPanel:not(.lm-mod-hidden) .lnb-monitor"


CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"


def open_notebook(page, lab, name: str) -> None:
    page.goto(lab.url(name))
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=HANG_MS)
    time.sleep(1.0)  # the kernel connection settles after the indicator first reads idle (a person's pause)


def prompt(page, index: int) -> str:
    return page.locator(f"{CELLS} .jp-InputArea-prompt").nth(index).inner_text()


def run_cell(page, index: int) -> None:
    """Select a cell and press Shift+Enter, as a person does; pressed again only if the keypress was lost: the
    page shows the key was handled by moving the selection off the cell (or marking the cell queued/run)."""
    for _ in range(2):
        page.locator(f"{CELLS} .jp-InputPrompt").nth(index).click()
        wait_until(lambda: active_cell(page) == index)
        page.keyboard.press("Shift+Enter")
        try:  # the only short wait of the suite: a handled key moves the selection within one frame
            wait_until(lambda: active_cell(page) != index or started(page, index), KEYPRESS_S)
        except TimeoutError:
            continue
        wait_until(lambda: started(page, index))
        return
    raise TimeoutError(f"cell {index} did not start")


KEYPRESS_S = 15.0  # how long a key may take to be handled before it counts as lost (not a budget on work)


def started(page, index: int) -> bool:
    return any(ch.isdigit() or ch == "*" for ch in prompt(page, index))


def active_cell(page) -> int:
    return int(page.evaluate(f"() => [...document.querySelectorAll('{CELLS}')]"
                             ".findIndex(c => c.classList.contains('jp-mod-active'))"))


def save(page, path) -> None:
    """Ctrl+S, as a person does; returns once JupyterLab has written the whole file (it is newer than before and
    parses as JSON: the server may truncate the file before it writes it)."""
    before = path.stat().st_mtime_ns if path.exists() else 0
    page.keyboard.press("Control+s")

    def written() -> bool:
        if not path.exists() or path.stat().st_mtime_ns <= before:
            return False
        try:
            json.loads(path.read_text())
        except ValueError:
            return False
        return True

    wait_until(written)


def cell_busy(page, index: int) -> bool:
    return "*" in prompt(page, index)


def points(page) -> int:
    return int(page.evaluate(f"() => Number((document.querySelector('{MONITOR}') || {{dataset: {{}}}})"
                             ".dataset.points || 0)"))


def state(page) -> str:
    return page.evaluate(f"() => (document.querySelector('{MONITOR}') || {{dataset: {{}}}}).dataset.state || ''")


def wait_until(predicate, timeout: float | None = None, step: float = 0.02) -> float:
    """Seconds until ``predicate()`` held, however slow the machine; raises only at the hang guard ``timeout``
    (default `HANG_S`)."""
    t0 = time.monotonic()
    timeout = HANG_S if timeout is None else timeout
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("condition not met in time")
        time.sleep(step)
    return time.monotonic() - t0


# resolves once nothing under the selector changed for 400 ms: the renders from the kernel have landed (a live
# monitor changes a few times a second during a run: point the selector past it); false if they kept changing
# for 30 s
QUIET_JS = """(selector) => new Promise((resolve) => {
  const root = document.querySelector(selector);
  let timer = null;
  const done = (quiet) => { obs.disconnect(); clearTimeout(timer); clearTimeout(cap); resolve(quiet); };
  const obs = new MutationObserver(() => { clearTimeout(timer); timer = setTimeout(() => done(true), 400); });
  obs.observe(root, {subtree: true, childList: true, attributes: true, characterData: true});
  timer = setTimeout(() => done(true), 400);
  const cap = setTimeout(() => done(false), 30000);
})"""


def wait_renders(page, selector: str) -> None:
    """Returns once nothing under ``selector`` changed for 400 ms (a tab's renders from the kernel have landed)."""
    assert page.evaluate(QUIET_JS, selector), f"{selector} kept changing for 30 s"
