"""HTML and PNG renderings of samples, tables and statuses for the studio's panels."""

from __future__ import annotations

import base64
import html
import re
from collections.abc import Sequence
from typing import Any

import ipywidgets as W
import numpy as np
import torch

from ..artifacts import Run
from ..artifacts.report import curves_png
from ..data import DataBundle
from ..errors import LeptonError
from ..plotting import new_figure, plot_image_grid, to_png
from ..recipe import DATA_KINDS
from ..recipe.labels import metric_help, metric_label
from .access import describe_png

MUTED = "color:var(--jp-ui-font-color2,#666)"
BUSY = "lnb-busy"  # a CSS class (studio.css) that dims a picture while the next one renders
# text colours at 4.5:1 or more in the light and dark themes (studio.css defines them; light ones as fallback)
OK, BAD, WARN = "var(--lnb-ok,#1b5e20)", "var(--lnb-bad,#b71c1c)", "var(--lnb-warn,#6d5500)"


class Hint(str):
    """Text shown in a table cell with an explanation on hover."""

    hint: str

    def __new__(cls, text: str, hint: str = "") -> Hint:
        obj = super().__new__(cls, text)
        obj.hint = hint
        return obj


def metric_rows(metrics: dict[str, float], **columns: Any) -> list[dict[str, Any]]:
    """Rows of a metrics table: the readable name (its meaning on hover) and the value."""
    return [{"metric": Hint(metric_label(k), metric_help(k)), "value": v, **columns} for k, v in metrics.items()]


def table_html(rows: list[dict[str, Any]], left: Sequence[str] = (), max_rows: int = 200) -> str:
    if not rows:
        return f"<p style='{MUTED}'>none</p>"
    cols = list(rows[0])
    cell = "padding:2px 8px;border-bottom:1px solid var(--jp-border-color2,#e0e0e0)"

    def td(c: str, v: Any, tag: str = "td") -> str:
        align = "left" if c in left else "right"
        hint = getattr(v, "hint", "")
        title = f" title='{html.escape(hint, quote=True)}'" if hint else ""
        num = " class='lnb-num'" if align == "right" and tag == "td" else ""
        return f"<{tag}{num} style='{cell};text-align:{align}'{title}>{html.escape(fmt(v))}</{tag}>"

    # metric columns read as words, with their meaning on hover; the machine keys stay in exports
    head = "".join(td(c, Hint(metric_label(c), metric_help(c)), "th") for c in cols)
    body = "".join("<tr>" + "".join(td(c, r.get(c)) for c in cols) + "</tr>" for r in rows[:max_rows])
    more = f"<p style='{MUTED}'>… {len(rows) - max_rows} more</p>" if len(rows) > max_rows else ""
    table = "<table class='lnb-table' style='border-collapse:collapse;font-size:12px'>"
    return f"{table}<tr>{head}</tr>{body}</table>{more}"


def fmt(v: Any) -> str:
    if isinstance(v, (float, np.floating)):
        return f"{v:.4f}" if abs(v) < 1e4 else f"{v:.4g}"
    return "" if v is None else str(v)


def png_img(png: bytes, alt: str = "") -> str:
    return f"<img alt='{html.escape(alt)}' src='data:image/png;base64,{base64.b64encode(png).decode()}'>"


def image_grid_png(images: np.ndarray | torch.Tensor, titles: Sequence[str] = (), cols: int = 8,
                   colors: Sequence[str] | None = None, cell: float = 1.1) -> bytes:
    images = np.asarray(images)
    rows = int(np.ceil(len(images) / cols)) if len(images) else 1
    fig = new_figure(cell * min(cols, max(1, len(images))) + 0.2, cell * rows + (0.25 * rows if titles else 0))
    plot_image_grid(fig, images, titles, cols, colors)
    return to_png(fig)


def sample_view(data: DataBundle, split: str, indices: Sequence[int], titles: Sequence[str] = (),
                colors: Sequence[str] | None = None, cols: int = 8) -> tuple[str, bytes | None]:
    """Samples as (html, png): images as a PNG grid, sentences and table rows as HTML."""
    idx = [int(i) for i in indices]
    if not idx:
        return f"<p style='{MUTED}'>no samples</p>", None
    if DATA_KINDS[data.kind].pixels:
        return "", image_grid_png(data.raw(split, torch.as_tensor(idx)).numpy(), titles, cols, colors)
    rows = []
    for k, i in enumerate(idx):
        row: dict[str, Any] = {"#": i}
        if k < len(titles):
            row["label"] = titles[k]
        if DATA_KINDS[data.kind].tokens:
            texts = data.splits[split].texts
            row["sentence"] = texts[i] if texts else " ".join(data.vocab.decode(data.splits[split].x[i]))
        else:
            values = data.splits[split].x[i].tolist()
            row.update({n: v for n, v in list(zip(data.feature_names, values))[:8]})
        rows.append(row)
    return table_html(rows, left=("label", "sentence")), None


def header_html(recipe: Any) -> str:
    """The studio's title line: the recipe's key choices, or that it has problems (``recipe`` None)."""
    summary = recipe.summary() if recipe is not None else "recipe has problems (shown in red)"
    return (f"<div style='font-size:14px'><b>lepton_nb studio</b> · <span style='{MUTED}'>{html.escape(summary)}"
            "</span></div>")


def status_html(state: str, message: str = "") -> str:
    # theme-aware colours of the studio (studio.css), with the light theme's as fallback
    colors = {"completed": OK, "error": BAD, "diverged": BAD, "stopped": WARN, "early_stopped": WARN,
              "running": "var(--lnb-info,#0d47a1)", "paused": WARN}
    color = colors.get(state, "var(--jp-ui-font-color1,#222)")
    return (f"<span style='font-weight:600;color:{color}'>{html.escape(state)}</span>"
            f"{' — ' + html.escape(message) if message else ''}")


def plain_message(message: str) -> tuple[str, str]:
    """``"DataError: data.path …"`` → (``"data.path …"``, ``"DataError"``): the words, and the technical name of
    the error (shown on hover) when the message starts with one."""
    match = re.match(r"([A-Z]\w*(?:Error|Exception|Interrupt)): (.+)", message, re.S)
    return (match.group(2), match.group(1)) if match else (message, "")


def error_html(exc: BaseException, tb: str = "") -> str:
    """An error as a student reads it: its message (what is wrong and what is allowed), the exception's technical
    name only on hover; the traceback folded away, for errors that are not the library's own messages."""
    text = html.escape(str(exc) or type(exc).__name__)
    hint = html.escape(f"technical name: {type(exc).__name__}", quote=True)
    details = (f"<details><summary>traceback</summary><pre style='font-size:11px'>{html.escape(tb)}</pre></details>"
               if tb and not isinstance(exc, LeptonError) else "")
    return (f"<div class='lnb-error' style='color:{BAD};white-space:pre-wrap' title=\"{hint}\">⚠ {text}</div>"
            f"{details}")


def set_png(image: W.Image, png: bytes | None, alt: str) -> None:
    """Show a PNG at its natural width (never stretched by the layout) with ``alt``, the words a screen reader
    reads for it (what it shows, with its key numbers), or hide the image."""
    if png and not alt.strip():
        raise ValueError("an image needs a text alternative that says what it shows")
    with image.hold_sync():
        describe_png(image, alt if png else "")
        image.value = png or b""
        if png and png[:8] == b"\x89PNG\r\n\x1a\n":
            image.width = str(int.from_bytes(png[16:20], "big"))  # IHDR width
        image.layout.display = "" if png else "none"


def download_link(data: bytes, filename: str, label: str, mime: str) -> str:
    """A link that downloads ``data`` from the page itself (works on Binder, no server paths needed)."""
    b64 = base64.b64encode(data).decode()
    return (f"<a download='{html.escape(filename)}' href='data:{mime};base64,{b64}' "
            f"style='margin-right:12px'>⬇ {html.escape(label)}</a>")


def snapshot_html(run: Run) -> str:
    """A static summary of a finished run (curves + metrics) for the saved notebook."""
    rows = metric_rows(run.metrics or run.extras.get("pretrain", {}))  # a pretraining run has no test split
    color = {"completed": "#1b5e20", "error": "#b71c1c", "diverged": "#b71c1c"}.get(run.status, "#8d6e00")
    return (f"<div class='lnb-snapshot' style='font-family:system-ui,sans-serif;font-size:12px'>"
            f"<b>lepton_nb · {html.escape(run.name)}</b> · <span style='color:{color};font-weight:600'>"
            f"{html.escape(run.status)}</span> · {html.escape(run.recipe.summary())} · {run.epochs_done} epoch(s), "
            f"{run.seconds:.1f} s<br>{png_img(curves_png(run), 'training curves')}"
            f"{table_html(rows, left=('metric',))}</div>")
