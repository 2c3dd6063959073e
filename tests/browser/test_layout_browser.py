"""The studio's layout at narrow and wide windows: no text is cut off, nothing scrolls sideways.

Every tab is visited at 1024 px and 1440 px (and 1280 px with the file browser open) and every
element inside the studio whose content is wider than its box is reported: text cut by
``overflow: hidden`` or an ellipsis, labels and buttons too narrow for their words, table cells,
and containers that scroll sideways. Screenshots of each tab land in test-artifacts/browser/.
"""

import json
import time

import pytest

from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import HANG_MS, open_notebook, run_cell, wait_renders, wait_until

pytestmark = pytest.mark.browser

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STUDIO = f"{PANEL} .lnb-studio"
TABS = ("Data", "Augmentation", "Model", "Training", "Evaluation", "Interpret", "Robustness", "Search", "Runs")
SETUP = ('import lepton_nb as lnb\n'
         'recipe = lnb.Recipe.default().updated({"data.limit": 600, "train.epochs": 2, "model.width": 8})\n'
         'studio = lnb.Studio(recipe, out="runs")\n'
         'assert studio.start() and studio.wait(180)\n'
         'studio')

# Elements whose content is wider than their box: clipped (overflow hidden/clip, ellipsis), scrolling
# sideways (overflow auto/scroll), or text spilling out of a label, button or table cell.
CLIPPED_JS = """(selector) => {
  const studio = document.querySelector(selector);
  if (!studio) return [{why: 'no studio'}];
  const skip = new Set(['SELECT', 'OPTION', 'INPUT', 'TEXTAREA', 'CANVAS', 'IMG']);
  const ownText = (el) => Array.from(el.childNodes).some((n) => n.nodeType === 3 && n.textContent.trim());
  const els = [studio, ...studio.querySelectorAll('*')];
  for (let a = studio.parentElement; a && !a.classList.contains('jp-Cell'); a = a.parentElement) els.push(a);
  const found = [];
  for (const el of els) {
    if (!(el instanceof HTMLElement) || skip.has(el.tagName)) continue;
    if (!el.getClientRects().length || el.clientWidth === 0) continue;
    const cs = getComputedStyle(el);
    if (cs.visibility === 'hidden' || cs.display === 'none') continue;
    if (el.scrollWidth <= el.clientWidth + 1) continue;
    const why = [];
    if (['hidden', 'clip'].includes(cs.overflowX)) why.push('overflow ' + cs.overflowX);
    if (cs.textOverflow === 'ellipsis') why.push('ellipsis');
    if (['auto', 'scroll'].includes(cs.overflowX)) why.push('scrolls sideways');
    if (ownText(el)) why.push('text spills');
    if (el.matches('.widget-label, .widget-button, button, label, td, th')) why.push('label/cell');
    if (!why.length) continue;
    // what sticks out: the last (deepest) descendant whose right edge passes this element's
    const right = el.getBoundingClientRect().left + el.clientLeft + el.clientWidth + 1;
    const out = Array.from(el.querySelectorAll('*')).filter((d) => d.getBoundingClientRect().right > right).pop();
    found.push({tag: el.tagName.toLowerCase(), cls: String(el.className).slice(0, 80),
                text: (el.innerText || '').trim().replace(/\\s+/g, ' ').slice(0, 60),
                scrollWidth: el.scrollWidth, clientWidth: el.clientWidth, why: why.join(', '),
                sticksOut: out ? `<${out.tagName.toLowerCase()} class='${String(out.className).slice(0, 60)}'> `
                  + (out.innerText || out.getAttribute('alt') || '').trim().slice(0, 30) : ''});
  }
  return found;
}"""


def left_sidebar_open(page) -> bool:
    return page.evaluate("() => { const s = document.querySelector('#jp-left-stack');"
                         " return !!s && !s.classList.contains('lm-mod-hidden') && s.offsetWidth > 0; }")


def set_left_sidebar(page, want_open: bool) -> None:
    if left_sidebar_open(page) != want_open:
        page.locator(f"{PANEL} .jp-Notebook").click(position={"x": 5, "y": 5})  # focus the app, not a widget
        page.keyboard.press("Control+b")
        wait_until(lambda: left_sidebar_open(page) == want_open)
    time.sleep(0.8)  # the notebook relayouts


def visit_tabs(page, label: str) -> dict[str, list[dict]]:
    """Click every tab; what is clipped on each one, and a screenshot of it."""
    found = {}
    for i, title in enumerate(TABS):
        page.locator(f"{STUDIO} .lm-TabBar-tab", has_text=title).first.click()
        if title == "Evaluation":
            page.wait_for_selector(f"{STUDIO} .lnb-confusion table", timeout=HANG_MS)
        time.sleep(0.5)  # a lazily built tab's first render leaves the kernel
        wait_renders(page, f"{STUDIO} .widget-tab")  # ... and lands
        clipped = page.evaluate(CLIPPED_JS, STUDIO)
        if clipped:
            found[title] = clipped
        page.locator(STUDIO).scroll_into_view_if_needed()
        page.screenshot(path=str(ARTIFACTS / f"layout-{label}-{i}-{title.lower()}.png"))
    return found


def test_no_text_of_the_studio_is_clipped_at_1024_1280_and_1440_px(page, lab):
    lab.write_notebook("layout.ipynb", [SETUP])
    page.set_viewport_size({"width": 1440, "height": 1300})
    open_notebook(page, lab, "layout.ipynb")
    run_cell(page, 0)
    page.wait_for_selector(f"{STUDIO} .lnb-monitor", timeout=HANG_MS)
    wait_until(lambda: page.evaluate(f"() => document.querySelector('{STUDIO} .lnb-monitor').dataset.state")
               == "completed")
    report = {}
    for width, sidebar in ((1440, False), (1024, False), (1280, True)):
        page.set_viewport_size({"width": width, "height": 1300})
        set_left_sidebar(page, sidebar)
        label = f"{width}px" + ("-filebrowser" if sidebar else "")
        report[label] = visit_tabs(page, label)
    (ARTIFACTS / "layout-clipped.json").write_text(json.dumps(report, indent=1))
    counts = {label: sum(len(v) for v in tabs.values()) for label, tabs in report.items()}
    lines = [f"{label} · {tab}: <{e['tag']} class='{e['cls']}'> {e['text']!r} "
             f"scrollWidth={e['scrollWidth']} clientWidth={e['clientWidth']} ({e['why']}) {e['sticksOut']}"
             for label, tabs in report.items() for tab, items in tabs.items() for e in items]
    assert not lines, f"clipped elements per width {counts}:\n" + "\n".join(lines[:80])
