"""The studio for everyone, in JupyterLab with real Chromium: keyboard only, and axe-core on every tab.

One notebook, one short run, driven by the keyboard alone from the notebook to a finished run and the Interpret
tab's attribution map of a sample. At every key press the focus is somewhere visible (never on the page body), and
inside the studio it shows a focus ring at 3:1 or more against the background. On the way, axe-core (WCAG 2.0/2.1
A and AA and best practice, scoped to the studio) audits every tab before, during (paused) and after the run, in
the light and the dark JupyterLab themes: no critical or serious violation, and fewer violation nodes than
JupyterLab's own page around it. The report lands in test-artifacts/browser/axe-report.json, the key counts in
figures.json.
"""

from __future__ import annotations

import json
import os
import subprocess
import time

import pytest

from tests.browser.axe import ensure_axe
from tests.browser.conftest import ARTIFACTS, record_figure
from tests.browser.helpers import HANG_MS, MONITOR, open_notebook, state, wait_renders, wait_until

pytestmark = pytest.mark.browser

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"
STUDIO = f"{PANEL} .lnb-studio"
TABS = ("Data", "Augmentation", "Model", "Training", "Evaluation", "Interpret", "Robustness", "Search", "Runs")
TAB_BAR = f"{STUDIO} .widget-tab > .lm-TabBar"
SETUP = ('import lepton_nb as lnb\n'
         'recipe = lnb.Recipe.default().updated({"data.limit": 600, "train.epochs": 12, "model.width": 8})\n'
         'studio = lnb.Studio(recipe, out="runs")\n'
         'studio')
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]
THEMES = {"light": "JupyterLab Light", "dark": "JupyterLab Dark"}

AUDIT_JS = """async ([selector, tags, exclude]) => {
  const context = exclude ? {exclude: [[selector]]} : document.querySelector(selector);
  const r = await axe.run(context, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
  return r.violations.map((v) => ({id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map((n) => ({target: n.target.join(' '), html: n.html.slice(0, 160),
                                 summary: (n.failureSummary || '').slice(0, 300)}))}));
}"""

# where the focus is, and the ring it shows: outline (or box-shadow) colour against the background behind it
FOCUS_JS = """() => {
  const e = document.activeElement;
  if (!e || e === document.body || e === document.documentElement) return {body: true};
  const opaque = (c) => c && c !== 'transparent' && !/rgba\\(.*,\\s*0\\)$/.test(c);
  let back = 'rgb(255, 255, 255)';
  for (let a = e.parentElement; a; a = a.parentElement) {
    const c = getComputedStyle(a).backgroundColor;
    if (opaque(c)) { back = c; break; }
  }
  const cs = getComputedStyle(e);
  return {body: false, studio: !!e.closest('.lnb-studio'), tag: e.tagName.toLowerCase(),
          cls: String(e.className).slice(0, 80), role: e.getAttribute('role') || '',
          text: (e.getAttribute('aria-label') || e.textContent || e.value || '').trim().slice(0, 50),
          outline: cs.outlineStyle !== 'none' ? parseFloat(cs.outlineWidth) : 0, color: cs.outlineColor,
          shadow: cs.boxShadow, back};
}"""

def rgb(css: str) -> tuple[float, ...]:
    parts = css[css.index("(") + 1:css.index(")")].replace("/", ",").split(",")
    return tuple(float(p) for p in parts[:3])


def contrast(a: tuple[float, ...], b: tuple[float, ...]) -> float:
    def lum(c):
        lin = [v / 255 / 12.92 if v / 255 <= 0.03928 else ((v / 255 + 0.055) / 1.055) ** 2.4 for v in c]
        return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2]
    hi, lo = sorted((lum(a), lum(b)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


class Keys:
    """Presses keys as a person does and checks the focus after every one; counts them (path and detours)."""

    def __init__(self, page):
        self.page, self.counts, self.part, self.trail = page, {}, "path", []

    def focus(self) -> dict:
        return self.page.evaluate(FOCUS_JS)

    def check(self, key: str) -> dict:
        f = self.focus()
        self.trail.append((self.part, key, f.get("tag"), f.get("cls"), f.get("text")))
        assert not f["body"], f"focus fell to the page body after {key} ({self.part}): {self.trail[-6:]}"
        if f["studio"]:
            ring = f["outline"] >= 1 and contrast(rgb(f["color"]), rgb(f["back"])) >= 3.0
            assert ring, f"no visible focus ring (≥ 3:1) on {f} after {key}"
        return f

    def press(self, key: str, times: int = 1) -> dict:
        for _ in range(times):
            self.page.keyboard.press(key)
            self.counts[self.part] = self.counts.get(self.part, 0) + 1
            f = self.check(key)
        return f

    def until(self, predicate, key: str = "Tab", limit: int = 60) -> dict:
        """Press ``key`` until the focused element matches ``predicate`` (a dict of FOCUS_JS -> bool)."""
        for _ in range(limit):
            f = self.press(key)
            if predicate(f):
                return f
        raise AssertionError(f"{key} ×{limit} never reached the target; last focus {self.trail[-3:]}")


def on_tab(f: dict) -> bool:
    return f["studio"] and f["role"] == "tab"


def selected_tab(page) -> str:
    return page.locator(f"{TAB_BAR} .lm-TabBar-tab.lm-mod-current").first.inner_text().strip()


def wait_quiet(page) -> None:
    wait_renders(page, f"{STUDIO} .widget-tab")


def select_tab(keys: Keys, title: str) -> None:
    """From a focused tab, arrows to ``title`` and Enter (Lumino moves the focus with arrows, selects on Enter)."""
    page = keys.page
    here = TABS.index(page.evaluate("() => document.activeElement.textContent.trim()"))
    target = TABS.index(title)
    if target != here:
        keys.press("ArrowRight" if target > here else "ArrowLeft", abs(target - here))
    if selected_tab(page) != title:
        keys.press("Enter")
    wait_until(lambda: selected_tab(page) == title, 10)


def audit_tabs(keys: Keys, report: dict, stage: str, theme: str) -> None:
    """Focus on a tab of the studio: select each tab by keyboard and audit it with axe-core."""
    page = keys.page
    for title in TABS:
        select_tab(keys, title)
        if title == "Evaluation" and stage == "after":
            page.wait_for_selector(f"{STUDIO} .lnb-confusion table", timeout=HANG_MS)
        wait_quiet(page)
        t0 = time.monotonic()
        report.setdefault(stage, {}).setdefault(theme, {})[title] = page.evaluate(AUDIT_JS, [STUDIO, AXE_TAGS, False])
        report.setdefault("_seconds", []).append(time.monotonic() - t0)
    select_tab(keys, "Data")


def set_theme(page, theme: str) -> None:
    page.evaluate("(t) => window.jupyterapp.commands.execute('apputils:change-theme', {theme: t})", THEMES[theme])
    wait_until(lambda: page.evaluate("() => document.body.dataset.jpThemeLight") == str(theme == "light").lower(),
               30)
    wait_quiet(page)


def audit_both_themes(keys: Keys, report: dict, stage: str) -> None:
    t0 = time.monotonic()
    for theme in ("light", "dark"):
        set_theme(keys.page, theme)
        keys.check(f"theme {theme}")  # changing the theme keeps the focus where it was
        audit_tabs(keys, report, stage, theme)
    set_theme(keys.page, "light")
    report.setdefault("_stage_seconds", {})[stage] = round(time.monotonic() - t0, 1)
    (ARTIFACTS / "axe-report.json").write_text(json.dumps(report, indent=1))  # so far (kept if a later step fails)


def serious(report: dict) -> list[str]:
    return [f"{stage}/{theme}/{tab}: {v['id']} ({v['impact']}) ×{len(v['nodes'])}: "
            + "; ".join(f"{n['target']} — {n['summary'][:140]}" for n in v["nodes"][:3])
            for stage, themes in report.items() if not stage.startswith("_")
            for theme, tabs in themes.items() for tab, violations in tabs.items()
            for v in violations if v["impact"] in ("critical", "serious")]


@pytest.fixture(scope="session")
def axe_script():
    try:
        return ensure_axe()
    except (RuntimeError, subprocess.SubprocessError) as exc:
        if os.environ.get("CI"):
            pytest.fail(f"axe-core is needed: {exc}")
        pytest.skip(f"axe-core not available: {exc}")


def test_keyboard_only_to_an_explained_sample_with_no_serious_axe_violation(page, lab, axe_script):
    axe = axe_script
    lab.write_notebook("access.ipynb", [SETUP, "studio.run.status"])
    open_notebook(page, lab, "access.ipynb")
    page.add_script_tag(path=str(axe))
    keys = Keys(page)
    report: dict = {}
    t_start = time.monotonic()

    # notebook → studio → Start
    # runs the studio's cell and keeps it selected (Shift+Enter would select the next cell: Tab then goes on to
    # the cells below, and the studio is behind)
    keys.press("Control+Enter")
    page.wait_for_selector(f"{MONITOR} .lnb-start", timeout=HANG_MS)
    page.wait_for_function(f"() => !document.querySelector('{MONITOR} .lnb-start').disabled", timeout=HANG_MS)
    wait_quiet(page)
    keys.until(lambda f: "lnb-start" in f["cls"])
    to_start = keys.counts["path"]

    # before a run: every tab, both themes (a detour from the path: its keys are counted apart)
    keys.part = "audit"
    keys.until(on_tab)
    report["_jupyterlab_page"] = page.evaluate(AUDIT_JS, [STUDIO, AXE_TAGS, True])
    audit_both_themes(keys, report, "before")
    keys.until(lambda f: "lnb-start" in f["cls"], "Shift+Tab")

    # Start: the focus moves to Pause or Stop, never to the body
    keys.part = "path"
    keys.press("Enter")
    wait_until(lambda: state(page) != "idle", 60)  # the click reached the kernel, and the buttons changed
    f = keys.check("Start")
    assert f["cls"].split()[-1] in ("lnb-pause", "lnb-stop"), f
    wait_until(lambda: state(page) in ("running", "completed"), 60)
    assert state(page) == "running", "the run ended before it could be paused: give it more epochs"

    # during the run (paused after its first epoch, fields locked): every tab, both themes
    wait_until(lambda: "lnb-pause" in keys.focus()["cls"], 30)  # Stop while it started, then Pause
    summary = page.locator(f"{MONITOR} .lnb-summary")
    wait_until(lambda: " of 12 done" in summary.inner_text() or state(page) != "running", 60)
    keys.part = "audit"
    keys.press("Enter")
    wait_until(lambda: state(page) == "paused", 30)
    assert "lnb-resume" in keys.check("Pause")["cls"]  # the button that replaced Pause has the focus
    said = summary.inner_text()
    assert "paused" in said and "validation loss" in said, said  # what a screen reader is told
    keys.until(on_tab)
    audit_both_themes(keys, report, "during")
    keys.until(lambda f: "lnb-resume" in f["cls"], "Shift+Tab")
    keys.press("Enter")
    wait_until(lambda: state(page) != "paused", 30)
    wait_until(lambda: any(c in keys.check("Resume")["cls"] for c in ("lnb-pause", "lnb-start")), 30)

    # the run ends by itself: the focus goes back to Start, and stays visible all along
    keys.part = "path"
    while state(page) in ("running", "finishing"):
        keys.check("waiting for the run")
        time.sleep(0.2)
    assert state(page) in ("completed", "early_stopped"), state(page)
    wait_until(lambda: "lnb-start" in keys.focus()["cls"], 30)
    said = summary.inner_text()
    epochs = int(said.split(" of 12 done")[0].rsplit("epoch ", 1)[1])
    assert said.startswith("Training ") and "best validation accuracy so far" in said, said
    canvas = page.locator(f"{MONITOR} canvas.lnb-canvas").first.get_attribute("aria-label")
    assert canvas.startswith("loss chart") and f"val: {epochs} epochs, last" in canvas, canvas

    # → Interpret tab → Explain: an attribution map of samples, named by what it shows
    keys.until(on_tab)
    select_tab(keys, "Interpret")
    keys.until(lambda f: f["text"].endswith("Explain") or f["text"] == "Explain")
    keys.press("Enter")
    image = page.locator(f"{STUDIO} .lnb-explain-image[src^='blob:']")
    image.wait_for(timeout=HANG_MS)
    alt = image.get_attribute("title")
    assert "attributions of" in alt and "test image(s)" in alt, alt
    keys.check("explained")
    path_keys = keys.counts["path"]
    page.screenshot(path=str(ARTIFACTS / "access-explained.png"))

    # the chart read-out answers the keyboard: End puts it on the last point
    keys.part = "chart"
    keys.until(lambda f: f["tag"] == "canvas", "Shift+Tab")
    keys.press("End")
    readout = page.locator(f"{MONITOR} .lnb-readout").nth(2).inner_text()  # the last chart: learning rate
    assert readout.startswith("step ") and "lr " in readout, readout

    # after the run: every tab, both themes
    keys.part = "audit"
    keys.until(on_tab)
    audit_both_themes(keys, report, "after")
    seconds = time.monotonic() - t_start

    audits = report.pop("_seconds")
    stage_seconds = report.pop("_stage_seconds")
    page_nodes = sum(len(v["nodes"]) for v in report.pop("_jupyterlab_page"))
    # violation nodes of any impact in each view of the studio (one tab, one state, one theme)
    studio_nodes = {f"{stage}/{theme}/{tab}": sum(len(v["nodes"]) for v in violations)
                    for stage, themes in report.items() for theme, tabs in themes.items()
                    for tab, violations in tabs.items()}
    (ARTIFACTS / "axe-report.json").write_text(json.dumps({"studio_nodes": studio_nodes, "page_nodes": page_nodes,
                                                           "stage_seconds": stage_seconds, "report": report},
                                                          indent=1))
    (ARTIFACTS / "keyboard-trail.json").write_text(json.dumps(keys.trail, indent=0))
    record_figure("keyboard_keys_notebook_to_start", to_start + 1)
    record_figure("keyboard_keys_notebook_to_explained_sample", path_keys)
    record_figure("axe_audits", len(audits))
    record_figure("axe_audit_mean_s", sum(audits) / len(audits))
    record_figure("access_test_s", seconds)
    # the README gives these counts: fewer keys is fine (update it), more is a regression
    assert to_start + 1 <= 4 and path_keys <= 27, (to_start + 1, path_keys, "keys: README says 4 and 27")
    bad = serious(report)
    assert not bad, f"{len(bad)} critical/serious violations:\n" + "\n".join(bad[:60])
    worst = max(studio_nodes, key=studio_nodes.get)
    assert studio_nodes[worst] == 0 or studio_nodes[worst] < page_nodes, (
        f"{worst} has {studio_nodes[worst]} violation nodes (any impact), JupyterLab's own page {page_nodes}")
