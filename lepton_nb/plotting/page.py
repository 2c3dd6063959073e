"""Self-contained HTML pages with interactive charts: one file that opens offline, prints, and can be mailed.

A page that holds charts carries plotly.js once: the official *cartesian* partial bundle (1.5 MB instead of
the 4.8 MB full bundle; scatter, bar and heatmap are all the pages draw), stored gzipped in the package
(``widgets/plotly-cartesian.min.js.gz``, 0.50 MB) and embedded as base64 (0.66 MB), which the page inflates
with the browser's ``DecompressionStream`` (Chrome/Edge 80, Firefox 113, Safari 16.4). Each chart keeps
what a reader needs where the script cannot run (a mail preview, an old browser, a screen reader): a text
alternative in words and its values as a table. Printing draws the charts at the page's width, without the
tool bar. No CDN, no request leaves the file.
"""

from __future__ import annotations

import base64
import functools
import html
import json
from pathlib import Path
from typing import Any

PLOTLY_ASSET = "plotly-cartesian.min.js.gz"
_HERE = Path(__file__).resolve().parent

CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2rem auto;max-width:1100px;color:#222;
line-height:1.45;padding:0 1rem}
h1{margin-bottom:.2rem}h2{border-bottom:1px solid #ddd;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0}td,th{border:1px solid #ddd;padding:.25rem .6rem;text-align:right}
th{background:#f5f5f5}td.l,th.l{text-align:left}img{max-width:100%}
.status{display:inline-block;padding:.1rem .5rem;border-radius:.3rem;background:#eee;font-weight:600}
.completed{background:#d4edda}.stopped,.early_stopped{background:#fff3cd}.diverged,.error{background:#f8d7da}
pre{background:#f7f7f7;padding:.8rem;overflow:auto;font-size:.85rem}.muted{color:#595959}
figure.lnb-chart{margin:.6rem 0 1rem}figure.lnb-chart figcaption{color:#595959;font-size:.9rem}
.lnb-plot{min-height:60px}.lnb-plot p{color:#595959;border:1px dashed #ccc;padding:.6rem;margin:0}
.lnb-row{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:0 1.2rem}
details.lnb-values summary{cursor:pointer;color:#1f4e8c;font-size:.9rem}
@media print{body{margin:0;max-width:none}.modebar-container{display:none!important}
figure.lnb-chart,table,img{break-inside:avoid}.lnb-row{display:block}h2{break-after:avoid}}
"""

#: inflates the embedded bundle, then draws every chart; on failure the words and tables stay in place
LOADER = """
(async () => {
  const charts = [...document.querySelectorAll('figure.lnb-chart')];
  const say = (text) => charts.forEach((f) => {
    const p = f.querySelector('.lnb-plot p'); if (p) p.textContent = text;
    const d = f.querySelector('details.lnb-values'); if (d) d.open = true; });
  try {
    if (!window.Plotly) {
      const b64 = document.getElementById('lnb-plotly').textContent;
      const bytes = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
      const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('gzip'));
      const code = await new Response(stream).text();
      const s = document.createElement('script'); s.textContent = code; document.head.appendChild(s);
    }
    for (const f of charts) {
      const div = f.querySelector('.lnb-plot');
      const fig = JSON.parse(f.querySelector('script.lnb-figure').textContent);
      div.textContent = '';
      await Plotly.newPlot(div, fig.data, fig.layout, {responsive: true, displaylogo: false,
        modeBarButtonsToRemove: ['lasso2d', 'select2d'], toImageButtonOptions: {format: 'png', scale: 2}});
      div.dataset.drawn = '1';
    }
    const plots = () => [...document.querySelectorAll('.lnb-plot[data-drawn]')];
    window.addEventListener('beforeprint', () => plots().forEach((d) => Plotly.relayout(d, {width: 680})));
    window.addEventListener('afterprint', () => plots().forEach((d) => Plotly.relayout(d, {width: null,
      autosize: true})));
  } catch (err) {
    say('This browser could not draw the interactive chart (' + err + '); its values are in the table below.');
  }
})();
"""


def _asset(name: str) -> Path:
    """A front-end file: inside the installed package (lepton_nb/widgets) or the repository's widgets/."""
    for folder in (_HERE.parent / "widgets", _HERE.parents[1] / "widgets"):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"lepton_nb front-end file {name!r} is missing; reinstall lepton_nb")


@functools.lru_cache(maxsize=1)
def plotly_base64() -> str:
    """The gzipped plotly.js bundle as base64 (read once per process)."""
    return base64.b64encode(_asset(PLOTLY_ASSET).read_bytes()).decode("ascii")


def _json(figure: dict[str, Any]) -> str:
    """JSON safe inside a <script> element: ``<``, ``>`` and ``&`` escaped, so no text of a label can end the
    element or open a comment in it (as Django's json_script does)."""
    text = json.dumps(figure, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def values_table(columns: list[str], rows: list[list[Any]]) -> str:
    """A small table of the values a chart shows (its text alternative's details)."""
    def cell(v: Any) -> str:
        if isinstance(v, float):
            return "" if v != v else f"{v:.4g}"
        return html.escape("" if v is None else str(v))
    head = "".join(f"<th>{html.escape(c)}</th>" for c in columns)
    body = "".join("<tr>" + "".join(f"<td>{cell(v)}</td>" for v in r) + "</tr>" for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def chart(figure: dict[str, Any], alt: str, values: str = "", caption: str = "") -> str:
    """One interactive chart: the figure's JSON, ``alt`` (what it shows, in words: the accessible name and
    the text shown until the chart is drawn) and ``values`` (a table, folded under the chart)."""
    caption_html = f"<figcaption>{html.escape(caption)}</figcaption>" if caption else ""
    details = (f"<details class='lnb-values'><summary>values as a table</summary>{values}</details>"
               if values else "")
    return (f"<figure class='lnb-chart'><div class='lnb-plot' role='img' aria-label='{html.escape(alt)}'>"
            f"<p>{html.escape(alt)}</p></div><script type='application/json' class='lnb-figure'>{_json(figure)}"
            f"</script>{caption_html}{details}</figure>")


def document(title: str, body: str, css: str = CSS, lang: str = "en") -> str:
    """The whole page. plotly.js and its loader are included once, and only when ``body`` holds a chart."""
    script = ""
    if "class='lnb-chart'" in body:
        script = (f"<script id='lnb-plotly' type='application/octet-stream'>{plotly_base64()}</script>"
                  f"<script>{LOADER}</script>")
    return (f"<!doctype html><html lang={lang}><head><meta charset=utf-8>"
            f"<meta name=viewport content='width=device-width,initial-scale=1'><title>{html.escape(title)}</title>"
            f"<style>{css}</style></head><body>{body}{script}</body></html>")


__all__ = ["CSS", "PLOTLY_ASSET", "chart", "document", "plotly_base64", "values_table"]
