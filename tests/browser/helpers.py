"""Page helpers for JupyterLab: open a notebook, run a cell, read the live monitor."""

from __future__ import annotations

import time

MONITOR = ".jp-NotebookPanel:not(.lm-mod-hidden) .lnb-monitor"


CELLS = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Cell"


def open_notebook(page, lab, name: str) -> None:
    page.goto(lab.url(name))
    page.wait_for_selector(".jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=90_000)
    time.sleep(1.0)  # the kernel connection settles after the indicator first reads idle


def prompt(page, index: int) -> str:
    return page.locator(f"{CELLS} .jp-InputArea-prompt").nth(index).inner_text()


def run_cell(page, index: int) -> None:
    """Select a cell and press Shift+Enter, as a person does; retried once if the keypress was lost."""
    for _ in range(2):
        page.locator(f"{CELLS} .jp-InputPrompt").nth(index).click()
        page.keyboard.press("Shift+Enter")
        try:
            wait_until(lambda: any(ch.isdigit() or ch == "*" for ch in prompt(page, index)), 5)
            return
        except TimeoutError:
            continue
    raise TimeoutError(f"cell {index} did not start")


def cell_busy(page, index: int) -> bool:
    return "*" in prompt(page, index)


def points(page) -> int:
    return int(page.evaluate(f"() => Number((document.querySelector('{MONITOR}') || {{dataset: {{}}}})"
                             ".dataset.points || 0)"))


def state(page) -> str:
    return page.evaluate(f"() => (document.querySelector('{MONITOR}') || {{dataset: {{}}}}).dataset.state || ''")


def wait_until(predicate, timeout: float = 60.0, step: float = 0.02) -> float:
    """Seconds until ``predicate()`` held; raises on timeout."""
    t0 = time.monotonic()
    while not predicate():
        if time.monotonic() - t0 > timeout:
            raise TimeoutError("condition not met in time")
        time.sleep(step)
    return time.monotonic() - t0
