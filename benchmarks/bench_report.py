"""The run report: its size (what plotly.js costs a mailed file) and how long its charts take to write.

One run of the default digits recipe (3 epochs, seed 0) and its report, measured three ways in one process:
- size of ``report.html`` and its parts: the embedded plotly.js (gzip + base64), the charts' JSON, the
  remaining PNG images (misclassified samples, attribution maps) and the rest; plus what the file would weigh
  with plotly.py's full ``plotly.min.js`` inlined instead, and the size of the static report this replaced
  (the same run with the curves, confusion matrix and per-class bars as PNGs, rendered as before);
- time to build the interactive charts (curves, confusion, per class; JSON) against the time matplotlib took
  for the same three figures as PNG (median of 5 each, side by side).

Run: ``.venv/bin/python benchmarks/bench_report.py`` (about a minute); writes benchmarks/results/report.json.
Timings share the machine with whatever else runs on it: read them as a ratio.
"""

from __future__ import annotations

import base64
import json
import re
import statistics
import tempfile
import time
from pathlib import Path

import lepton_nb as lnb
from lepton_nb.artifacts.charts import confusion_section, curves_section, per_class_section
from lepton_nb.artifacts.report import curves_png
from lepton_nb.plotting import new_figure, plot_confusion, plot_per_class, to_png
from lepton_nb.plotting.page import plotly_base64

OUT = Path(__file__).resolve().parent / "results" / "report.json"


def static_charts(run) -> list[bytes]:
    """The three figures as the report drew them before (PNG)."""
    ev = run.evaluation
    size = max(4.0, 0.45 * len(ev.classes) + 1.5)
    fig = new_figure(size * 2 + 0.5, size)
    ax1, ax2 = fig.subplots(1, 2)
    plot_confusion(ax1, ev.confusion, ev.classes)
    plot_confusion(ax2, ev.confusion, ev.classes, normalize=True)
    fig2 = new_figure(max(6, 0.5 * len(ev.classes) + 2), 3)
    plot_per_class(fig2.subplots(), ev.per_class)
    return [curves_png(run), to_png(fig), to_png(fig2)]


def interactive_charts(run) -> list[str]:
    ev = run.evaluation
    return [curves_section(run.history), confusion_section(ev.confusion, ev.classes), per_class_section(ev.per_class)]


def median_seconds(fn, repeat: int = 5) -> float:
    times = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        run = lnb.train(lnb.Recipe.default().updated({"train.epochs": 3}), progress=False, out=tmp)
        html = (run.dir / "report.html").read_text(encoding="utf-8")
        t0 = time.perf_counter()
        run.report(Path(tmp) / "again.html")
        write_s = time.perf_counter() - t0
    total = len(html.encode())
    embedded = len(plotly_base64())
    charts = sum(len(m) for m in re.findall(r"<script type='application/json' class='lnb-figure'>.*?</script>", html))
    pngs = sum(len(m) for m in re.findall(r"data:image/png;base64,[A-Za-z0-9+/=]+", html))
    static = [base64.b64encode(p).decode() for p in static_charts(run)]
    static_total = total - embedded - charts + sum(len(s) + 40 for s in static)
    try:  # plotly.py ships the full bundle; only its size is read
        import plotly

        full_bytes = (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").stat().st_size
    except (ImportError, OSError):
        full_bytes = None
    result = {
        "report_bytes": total, "plotly_js_embedded_bytes": embedded, "charts_json_bytes": charts,
        "png_bytes": pngs, "rest_bytes": total - embedded - charts - pngs,
        "static_report_bytes (curves, confusion, per class as PNG)": static_total,
        "report_with_full_plotly_min_js_inlined_bytes": None if full_bytes is None else total - embedded + full_bytes,
        "interactive_charts_build_s": median_seconds(lambda: interactive_charts(run)),
        "static_charts_render_s": median_seconds(lambda: static_charts(run)),
        "whole_report_write_s": write_s,
    }
    result["static_over_interactive_time"] = result["static_charts_render_s"] / result["interactive_charts_build_s"]
    OUT.parent.mkdir(exist_ok=True)
    OUT.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
