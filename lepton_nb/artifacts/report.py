"""A self-contained HTML report of a run: opens offline, prints, small enough to mail.

The curves, the confusion matrix, the per-class scores and the robustness curve are interactive (plotly.js,
embedded once: hover values, zoom, legend toggles; `lepton_nb.plotting.page`), each with its text alternative;
image grids (misclassified samples, attribution maps) stay PNG, where interaction adds nothing.
"""

from __future__ import annotations

import base64
import html
import json
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from ..data import DataBundle
from ..evaluation import EvalResult
from ..files import atomic_write
from ..plotting.page import document
from ..recipe import Recipe
from ..recipe.labels import metric_help, metric_label
from ..robust.curve import whole_curve
from ..training.history import History
from .charts import confusion_section, curves_section, per_class_section, robustness_chart


class Run(Protocol):
    """What a report shows of a run (a `lepton_nb.artifacts.Run`)."""

    recipe: Recipe
    history: History
    data: DataBundle | None
    evaluation: EvalResult | None
    status: str
    message: str
    seconds: float
    started: str
    best_epoch: int | None
    extras: dict[str, Any]

    @property
    def name(self) -> str: ...

    @property
    def metrics(self) -> dict[str, float]: ...

    @property
    def epochs_done(self) -> int: ...



def img_tag(png: bytes, alt: str) -> str:
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{base64.b64encode(png).decode()}">'


def table(rows: list[dict[str, Any]], left: tuple[str, ...] = ()) -> str:
    if not rows:
        return "<p class=muted>none</p>"
    cols = list(rows[0])
    head = "".join(f'<th class="{"l" if c in left else ""}">{html.escape(str(c))}</th>' for c in cols)
    body = "".join("<tr>" + "".join(
        f'<td class="{"l" if c in left else ""}">{html.escape(_fmt(r.get(c)))}</td>' for c in cols) + "</tr>"
        for r in rows)
    return f"<table><tr>{head}</tr>{body}</table>"


def _fmt(v: Any) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"
    return "" if v is None else str(v)


def curves_png(run: Run, metric: str = "accuracy") -> bytes:
    """The curves as one static image (the studio leaves it in the notebook when a run ends)."""
    from ..plotting import new_figure, plot_curves, plot_lr, to_png

    fig = new_figure(11, 3.4)
    ax1, ax2, ax3 = fig.subplots(1, 3)
    plot_curves(ax1, ax2, run.history, metric)
    plot_lr(ax3, run.history)
    for change in run.history.meta.get("changes", []):  # settings changed while paused, from this step on
        for ax in (ax1, ax2, ax3):
            ax.axvline(change["step"], ls="--", lw=1, color="#8e24aa")
    return to_png(fig)


def changes_section(run: Run) -> str:
    """What was changed while the run was paused, and from which step it applied."""
    changes = run.history.meta.get("changes", [])
    if not changes:
        return ""
    rows = [{"step": c["step"], "epoch": c["epoch"] + 1, "field": c["field"], "from": c["old"], "to": c["new"]}
            for c in changes]
    return ("<h2>Changed while paused</h2><p class=muted>The recipe below is the one the run started with; these "
            "changes applied from the step shown (dashed lines on the curves).</p>" + table(rows, left=("field",)))


def sample_section(run: Run, indices: np.ndarray, title: str) -> str:
    """Misclassified or high-loss test samples, shown the way the data kind reads best."""
    from ..plotting import new_figure, plot_image_grid, to_png
    ev, data = run.evaluation, run.data
    if ev is None or data is None or len(indices) == 0:
        return f"<h3>{html.escape(title)}</h3><p class=muted>none</p>"
    classes = ev.classes
    if data.kind == "image":
        images = data.raw("test", torch_index(indices)).numpy()
        titles = [f"{classes[ev.y_true[i]]}→{classes[ev.y_pred[i]]} {ev.probs[i].max():.2f}" for i in indices]
        fig = new_figure(11, 1.5 * int(np.ceil(len(indices) / 8)) + 0.3)
        plot_image_grid(fig, images, titles, cols=8, colors=["#c44e52"] * len(indices))
        return (f"<h3>{html.escape(title)}</h3><p class=muted>true→predicted, confidence</p>"
                + img_tag(to_png(fig), title))
    rows = []
    for i in indices:
        row: dict[str, Any] = {"#": int(i)}
        if data.kind == "text":
            row["sentence"] = data.test.texts[i] if data.test.texts else ""
        row.update({"true": classes[ev.y_true[i]], "predicted": classes[ev.y_pred[i]],
                    "confidence": float(ev.probs[i].max()), "loss": float(ev.losses[i])})
        rows.append(row)
    return f"<h3>{html.escape(title)}</h3>" + table(rows, left=("sentence",))


def torch_index(indices: np.ndarray) -> Any:
    import torch

    return torch.as_tensor(np.asarray(indices, dtype=np.int64))


def attribution_section(run: Run) -> str:
    """The last probe frame (input | attribution | overlay) and the timeline of how it changed."""
    from ..plotting import new_figure, to_png
    from ..plotting.attributions import (
        plot_attribution_grid,
        plot_feature_bars,
        plot_global_importance,
        plot_timeline_strip,
        token_html,
    )

    frames = run.history.artifacts.get("attributions", [])
    probes = run.history.meta.get("probes")
    error = run.history.meta.get("interpret_error")
    if error:
        return f"<h2>Attributions</h2><p>Attribution probes stopped: {html.escape(error)}</p>"
    if not frames or not probes or run.data is None:
        return ""
    data, classes = run.data, run.data.classes
    idx = torch_index(np.asarray(probes["indices"]))
    labels = probes["labels"]
    last = frames[-1]
    attrs = np.stack([f["attributions"] for f in frames]).astype(np.float32)
    head = (f"<h2>Attributions</h2><p class=muted>{html.escape(probes['method'])} on {len(labels)} probe samples of "
            f"the {html.escape(probes['split'])} split, target: {html.escape(probes['target'])} class, baseline: "
            f"{html.escape(probes['baseline'])}; computed on the weights at the end of {len(frames)} epoch(s). "
            f"Red: evidence for the class, blue: against.</p>")
    if last.get("delta") is not None:
        head += (f"<p class=muted>completeness gap at the end (how far the attributions' sum is from the score's "
                 f"change from the baseline; near 0 is good): at most {last['delta']:.2e}</p>")
    titles = [f"{classes[t]}→{classes[p]} {c:.2f}" for t, p, c in zip(labels, last["predictions"], last["confidence"])]
    if data.kind == "image":
        images = data.raw(probes["split"], idx).numpy()
        fig = new_figure(1.3 * len(labels) + 1.0, 4.2)
        plot_attribution_grid(fig, images, attrs[-1], titles,
                              ["#c44e52" if t != p else "black" for t, p in zip(labels, last["predictions"])])
        body = img_tag(to_png(fig), "attribution grid")
        if len(frames) > 1:
            fig = new_figure(1.2 * min(8, len(frames)) + 0.5, 1.25 * len(labels) + 0.4)
            plot_timeline_strip(fig, images, attrs, [f["epoch"] for f in frames], [f["predictions"] for f in frames],
                                [f["confidence"] for f in frames], classes)
            body += "<h3>Timeline: overlays per epoch (rows: probes)</h3>" + img_tag(to_png(fig), "timeline")
        return head + body
    if data.kind == "text":
        ids = data.splits[probes["split"]].x[idx]
        rows = []
        for k in range(len(labels)):
            words = data.vocab.decode(ids[k])
            first = token_html(words, attrs[0][k][: len(words)])
            final = token_html(words, attrs[-1][k][: len(words)])
            rows.append(f"<tr><td>{html.escape(titles[k])}</td><td class=l>{final}</td><td class=l>{first}</td></tr>")
        header = "<tr><th>true→pred</th><th class=l>last epoch</th><th class=l>first probed epoch</th></tr>"
        return head + "<table>" + header + "".join(rows) + "</table>"
    names = data.feature_names
    n = len(labels)
    fig = new_figure(11, 1.8 * int(np.ceil(n / 4)) + 0.4)
    axes = fig.subplots(int(np.ceil(n / 4)), 4, squeeze=False)
    for k, ax in enumerate(axes.flat):
        if k < n:
            plot_feature_bars(ax, attrs[-1][k], names, top=8, title=titles[k])
        else:
            ax.axis("off")
    fig2 = new_figure(6, 3.5)
    plot_global_importance(fig2.subplots(), attrs[-1], names)
    return head + img_tag(to_png(fig), "feature attributions") + "<h3>Global importance (probe set)</h3>" + \
        img_tag(to_png(fig2), "global importance")


def robustness_section(curve: dict[str, Any] | None) -> str:
    """Accuracy under attack at each ε with the gradient-masking checks ("" without a whole curve)."""
    c = whole_curve(curve) if curve else None
    if c is None:
        return ""
    rows = c.table()
    checks = "".join(f"<li>{'✓' if k.passed else '⚠'} {html.escape(k.name)}"
                     f"{'' if k.passed else ': ' + html.escape(k.detail)}</li>" for k in c.checks)
    return (f"<h2>Robustness</h2><p class=muted>accuracy on {c.n} {html.escape(c.split)} samples under attack, "
            f"ε in {html.escape(c.unit_name)} (applied before normalization, clamped to the valid range); PGD "
            f"with {c.steps} steps; {c.seconds:.1f} s</p>" + robustness_chart([c])
            + table([{k: v for k, v in r.items() if k != "run"} for r in rows])
            + (f"<h3>Sanity checks against gradient masking</h3><ul>{checks}</ul>" if checks else ""))


def write_report(run: Run, path: Path) -> Path:
    """Write the report to ``path`` (atomically) and return it."""
    r = run.recipe
    parts = [f"<h1>{html.escape(run.name)}</h1>",
             f'<p><span class="status {html.escape(run.status)}">{html.escape(run.status)}</span> '
             f'{html.escape(run.message)}</p>',
             f"<p class=muted>{html.escape(r.summary())} · started {html.escape(run.started)} · "
             f"{run.seconds:.1f} s · {run.epochs_done} epoch(s) · best epoch "
             f"{'' if run.best_epoch is None else run.best_epoch}</p>"]
    if run.metrics:
        parts.append("<h2>Test metrics</h2>" + table([{"metric": metric_label(k), "value": v, "meaning": metric_help(k)}
                                                      for k, v in run.metrics.items()], left=("metric", "meaning")))
    parts.append("<h2>Training curves</h2>" + curves_section(run.history))
    parts.append(changes_section(run))
    if run.history.epochs:
        keys = [k for k in run.history.epochs[0] if k not in ("step",)]
        rows = [{k: (e.get(k) + 1 if k == "epoch" else e.get(k)) for k in keys} for e in run.history.epochs]
        parts.append(f"<details><summary>Per-epoch values ({len(rows)})</summary>{table(rows)}</details>")
    if run.evaluation is not None:
        ev = run.evaluation
        parts.append("<h2>Confusion matrix</h2>" + confusion_section(ev.confusion, ev.classes))
        parts.append("<h2>Per class</h2>" + per_class_section(ev.per_class) + table(ev.per_class, left=("class",)))
        wrong = ev.misclassified()
        order = wrong[np.argsort(-ev.losses[wrong], kind="stable")][:32]
        parts.append(f"<h2>Misclassified examples</h2><p>{len(wrong)} of {len(ev.y_true)} test samples are "
                     f"misclassified; the {len(order)} with the highest loss:</p>")
        parts.append(sample_section(run, order, "Misclassified, highest loss first"))
    parts.append(attribution_section(run))
    parts.append(robustness_section(run.extras.get("robustness")))
    if run.data is not None:
        d = run.data
        parts.append("<h2>Data</h2>" + table([{"split": k, "samples": v} for k, v in d.sizes().items()],
                                              left=("split",)))
        parts.append(f"<pre>{html.escape(str(d.cleaning))}</pre>")
        norm = d.norm
        if norm.method != "none" and norm.mean:
            n = min(len(norm.mean), 40)
            rows = [{"channel/feature": (d.feature_names[i] if d.feature_names else i), "mean": norm.mean[i],
                     "std": norm.std[i], "min": norm.min[i], "max": norm.max[i]} for i in range(n)]
            parts.append(f"<h3>Normalization ({html.escape(norm.method)}, from {norm.count} train samples)</h3>"
                         + table(rows, left=("channel/feature",)))
    parts.append("<h2>Recipe</h2><pre>" + html.escape(json.dumps(r.to_dict(), indent=2)) + "</pre>")
    parts.append("<p class=muted>Written by lepton_nb.</p>")
    return atomic_write(path, document(f"{run.name} · lepton_nb", "".join(parts)))
