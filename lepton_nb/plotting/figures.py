"""Matplotlib/seaborn figures built on ``matplotlib.figure.Figure`` (safe off the main thread)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from typing import Any

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..recipe.labels import metric_label
from .colors import PALETTE


def new_figure(width: float = 6.0, height: float = 3.5, dpi: int = 100) -> Figure:
    """A pyplot-free figure (no global state, usable from any thread)."""
    return Figure(figsize=(width, height), dpi=dpi, layout="constrained")


def to_png(fig: Figure, dpi: int | None = None) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def _smooth(y: np.ndarray, window: int) -> np.ndarray:
    if len(y) < window or window < 2:
        return y
    kernel = np.ones(window) / window
    padded = np.concatenate([np.full(window - 1, y[0]), y])
    return np.convolve(padded, kernel, mode="valid")


def plot_curves(ax_loss: Axes, ax_metric: Axes | None, history: Any, metric: str = "accuracy") -> None:
    """Train loss per batch (smoothed) and per-epoch train/val loss; train/val ``metric`` per epoch."""
    steps, loss = history.decimated("batch_loss", 2000)
    if len(steps):
        ax_loss.plot(steps, loss, color=PALETTE["train"], alpha=0.25, lw=0.8, label="train (batch)")
        ax_loss.plot(steps, _smooth(loss, max(1, len(loss) // 50)), color=PALETTE["train"], lw=1.5,
                     label="train (smoothed)")
    for name, color in (("val_loss", PALETTE["val"]),):
        x, y = history.series(name)
        if len(x):
            ax_loss.plot(x, y, "o-", color=color, lw=1.5, ms=3, label="val")
    ax_loss.set_xlabel("step")
    ax_loss.set_ylabel("loss")
    ax_loss.grid(alpha=0.3)
    if len(steps):
        ax_loss.legend(fontsize=8)
    if ax_metric is None:
        return
    for split, color in (("train", PALETTE["train"]), ("val", PALETTE["val"])):
        x, y = history.series(f"{split}_{metric}")
        if len(x):
            ax_metric.plot(x, y, "o-", color=color, lw=1.5, ms=3, label=split)
    ax_metric.set_xlabel("step")
    ax_metric.set_ylabel(metric.replace("_", " "))
    ax_metric.grid(alpha=0.3)
    if ax_metric.lines:
        ax_metric.legend(fontsize=8)


def plot_lr(ax: Axes, history: Any) -> None:
    x, y = history.decimated("lr", 2000)
    ax.plot(x, y, color=PALETTE["lr"], lw=1.5)
    ax.set_xlabel("step")
    ax.set_ylabel("learning rate")
    ax.grid(alpha=0.3)


def plot_confusion(ax: Axes, confusion: np.ndarray, classes: Sequence[str], normalize: bool = False) -> None:
    """Confusion matrix heat map (rows: true class, columns: predicted)."""
    import seaborn as sns

    data = confusion.astype(float)
    if normalize:
        data = data / np.maximum(data.sum(1, keepdims=True), 1)
    annotate = len(classes) <= 20
    sns.heatmap(data, ax=ax, annot=annotate, fmt=".2f" if normalize else ".0f", cmap="Blues", cbar=False,
                xticklabels=list(classes), yticklabels=list(classes), square=len(classes) <= 20,
                annot_kws={"fontsize": 8})
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")


def plot_per_class(ax: Axes, per_class: list[dict[str, Any]]) -> None:
    """Grouped bars of precision, recall and F1 per class."""
    names = [str(r["class"]) for r in per_class]
    x = np.arange(len(names))
    width = 0.27
    for i, (key, color) in enumerate((("precision", "#4c72b0"), ("recall", "#dd8452"), ("f1", "#55a868"))):
        ax.bar(x + (i - 1) * width, [r[key] for r in per_class], width, label=key, color=color)
    ax.set_xticks(x, names, rotation=45 if len(names) > 10 else 0, ha="right" if len(names) > 10 else "center")
    ax.set_ylim(0, 1.05)
    ax.legend(fontsize=8, ncols=3, loc="lower right")
    ax.grid(axis="y", alpha=0.3)


def plot_image_grid(fig: Figure, images: np.ndarray, titles: Sequence[str] = (), cols: int = 8,
                    colors: Sequence[str] | None = None) -> None:
    """Images [N, C, H, W] in [0, 1] as a grid with optional titles (coloured, e.g. red for wrong)."""
    n = len(images)
    if n == 0:
        return
    cols = min(cols, n)
    rows = int(np.ceil(n / cols))
    axes = fig.subplots(rows, cols, squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i >= n:
            continue
        img = np.asarray(images[i])
        if img.shape[0] == 1:
            ax.imshow(img[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
        else:
            ax.imshow(np.clip(img.transpose(1, 2, 0), 0, 1), interpolation="nearest")
        if i < len(titles):
            ax.set_title(titles[i], fontsize=8, color=colors[i] if colors else "black")


def plot_lr_find(ax: Axes, lrs: Sequence[float], losses: Sequence[float], suggestion: float | None) -> None:
    ax.plot(lrs, losses, color=PALETTE["train"], lw=1.5)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("loss (smoothed)")
    ax.grid(alpha=0.3, which="both")
    if suggestion:
        ax.axvline(suggestion, color=PALETTE["test"], ls="--", lw=1.2, label=f"suggested {suggestion:.2g}")
        ax.legend(fontsize=8)


def matching_bins(before: np.ndarray, after: np.ndarray, bins: int = 50) -> tuple[np.ndarray, np.ndarray]:
    """Bin edges for values before and after an increasing affine map (standardization, min-max), the second
    set the image of the first, so both histograms hold the same counts in the same order.

    Every edge lies halfway between two neighbouring values (with few distinct values, such as digits' 17 grey
    levels, one bin per value): an edge never falls on a value, so rounding in the map cannot move a value
    into the next bin.
    """
    b, a = np.ravel(before).astype(np.float64), np.ravel(after).astype(np.float64)
    if not b.size or not a.size:
        return np.linspace(0, 1, bins + 1), np.linspace(0, 1, bins + 1)
    lo, hi, alo, ahi = b.min(), b.max(), a.min(), a.max()
    levels = np.unique(b if b.size <= 1_000_000 else b[:: b.size // 1_000_000 + 1])  # a sample of a large set
    mids = (levels[1:] + levels[:-1]) / 2
    if len(levels) > bins:  # the midpoints nearest to evenly spaced edges
        mids = np.unique(mids[np.searchsorted(mids, np.linspace(lo, hi, bins + 1)[1:-1]).clip(0, len(mids) - 1)])
    pad = float(np.min(np.diff(levels))) / 2 if len(levels) > 1 else 0.5
    edges = np.concatenate([[lo - pad], mids, [hi + pad]])
    scale = (ahi - alo) / (hi - lo) if hi > lo else 1.0
    return edges, alo + (edges - lo) * scale


def plot_histograms(ax: Axes, before: np.ndarray, after: np.ndarray, bins: int = 50) -> None:
    """Value distributions before and after normalization on one axis, in matching bins (`matching_bins`), as a
    share of the values: an affine normalization moves and stretches the bars but keeps their heights."""
    eb, ea = matching_bins(before, after, bins)
    for values, edges, color, name in ((before, eb, PALETTE["train"], "before"), (after, ea, PALETTE["val"], "after")):
        v = np.ravel(values)
        weights = np.full(v.shape, 100.0 / max(1, v.size))
        mean, std = (round(float(f), 2) + 0.0 for f in (v.mean(), v.std())) if v.size else (0.0, 0.0)  # no "-0.00"
        ax.hist(v, bins=edges, weights=weights, alpha=0.6, color=color,
                label=f"{name}: mean {mean:.2f}, std {std:.2f}" if v.size else name)
    ax.set_xlabel("value")
    ax.set_ylabel("share of values (%)")
    ax.legend(fontsize=8)
    ax.grid(alpha=0.3)


def plot_top_losses(fig: Figure, images: np.ndarray, y_true: Sequence[int], y_pred: Sequence[int],
                    probs: np.ndarray, classes: Sequence[str], errors: int | None = None, cols: int = 8) -> int:
    """The highest-loss samples as a grid titled "true→predicted (probability)", wrong ones in red, right ones
    in green, under a caption that says how many are wrong (and of how many errors in the split, when given).
    Returns the number shown that are wrong."""
    wrong = [int(t) != int(p) for t, p in zip(y_true, y_pred)]
    titles = [f"{classes[int(t)]}→{classes[int(p)]} ({float(pr[int(p)]):.0%})"
              for t, p, pr in zip(y_true, y_pred, probs)]
    plot_image_grid(fig, images, titles, cols, ["#b71c1c" if w else "#1b5e20" for w in wrong])
    n, k = len(wrong), sum(wrong)
    caption = f"the {n} highest losses: {k} wrong (red), {n - k} right but unsure (green)"
    if errors is not None:
        caption += f"; the split has {errors} error{'s' if errors != 1 else ''} in all"
    fig.suptitle(caption, fontsize=9)
    return k


def plot_cv(ax: Axes, folds: list[dict[str, float]], metric: str = "accuracy") -> None:
    values = [f[metric] for f in folds]
    ax.bar(range(1, len(values) + 1), values, color=PALETTE["train"])
    ax.set_xticks(range(1, len(values) + 1))  # folds are whole numbers: never 0.5 … 3.5
    if values:
        mean = float(np.mean(values))
        ax.axhline(mean, color=PALETTE["test"], ls="--", label=f"mean {mean:.4f}")
        ax.legend(fontsize=8)
    ax.set_xlabel("fold")
    ax.set_ylabel(metric_label(metric))
    ax.grid(axis="y", alpha=0.3)
