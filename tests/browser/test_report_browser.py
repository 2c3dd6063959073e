"""The HTML report and the class gallery in a real browser: every chart drawn from the embedded plotly.js with no
request leaving the file, hover values, legend toggles, and a print that keeps the charts."""

from __future__ import annotations

import pytest

import lepton_nb as lnb
from tests.browser.conftest import ARTIFACTS
from tests.browser.helpers import HANG_MS
from tests.conftest import tiny_recipe

pytestmark = pytest.mark.browser


def open_page(page, path) -> list[str]:
    """Open a local page; returns the requests that tried to leave it (answered with a failure)."""
    outside: list[str] = []

    def refuse(route):
        outside.append(route.request.url)
        route.abort()

    page.route("http*://**", refuse)
    page.goto(path.resolve().as_uri())
    page.wait_for_function("() => { const all = document.querySelectorAll('.lnb-plot');"
                           " return all.length > 0 && [...all].every((d) => d.dataset.drawn); }", timeout=HANG_MS)
    return outside


def test_report_charts_draw_offline_show_counts_on_hover_and_print(bare_page, tmp_path):
    run = lnb.train(tiny_recipe(interpret__enabled=False), progress=False, out=tmp_path)
    page = bare_page
    assert open_page(page, run.dir / "report.html") == []
    assert page.locator(".lnb-plot .main-svg").count() >= 5  # each chart drew its SVG
    cell = page.locator("figure.lnb-chart:has(.heatmaplayer) .nsewdrag").first
    cell.scroll_into_view_if_needed()
    box = cell.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.05, box["y"] + box["height"] * 0.05)  # the first class's cell
    page.wait_for_selector(".hoverlayer .hovertext", timeout=HANG_MS)
    tip = page.locator(".hoverlayer .hovertext").first.text_content()  # an SVG group: its text, not an HTML layout
    assert "true 0" in tip and "predicted 0" in tip and "samples" in tip and "of true 0" in tip
    page.screenshot(path=str(ARTIFACTS / "report-interactive.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator(".modebar-container").first.is_hidden()  # no tool bar on paper
    pdf = page.pdf(format="A4")
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    page.emulate_media(media="screen")
    assert page.evaluate("document.querySelectorAll('.lnb-plot[data-drawn]').length") >= 5  # still drawn after
