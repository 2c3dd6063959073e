"""Attribution figures: original | heat map | overlay with a signed diverging colormap on a shared scale,
timeline strips, tabular bars, and highlighted tokens (HTML)."""

from __future__ import annotations

import html
from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

CMAP = "RdBu_r"  # red: evidence for the class, blue: against
END_OF_WORD = "</w>"  # how the byte-pair tokenizer (`lepton_nb.data.subword`) marks a piece that ends a word


def readable_tokens(tokens: Sequence[str]) -> list[str]:
    """Subword pieces as a reader reads them: ``"the</w>"`` → ``"the"``, a piece that continues into the next
    one gets a hyphen (``"un", "watch", "able</w>"`` → ``"un-", "watch-", "able"``). Whole-word tokens (no
    piece ends with the marker) and special tokens (``[CLS]``, ``<unk>``) are left as they are."""
    tokens = [str(t) for t in tokens]
    if not any(t.endswith(END_OF_WORD) for t in tokens):
        return tokens
    special = ("[", "<")
    return [t[: -len(END_OF_WORD)] if t.endswith(END_OF_WORD) else t if t.startswith(special) else t + "-"
            for t in tokens]


def attribution_map(attr: np.ndarray) -> np.ndarray:
    """[C, H, W] → [H, W]: the sum over channels keeps the sign (for/against the class)."""
    attr = np.asarray(attr, dtype=np.float32)
    return attr.sum(0) if attr.ndim == 3 else attr


def shared_scale(maps: Sequence[np.ndarray]) -> float:
    """One symmetric colour scale for every panel, so tiles can be compared; robust to single outliers."""
    values = np.abs(np.concatenate([np.ravel(m) for m in maps])) if len(maps) else np.zeros(1)
    scale = float(np.percentile(values, 99.5)) if values.size else 0.0
    return scale if scale > 0 else 1.0


def _show_image(ax: Axes, img: np.ndarray) -> None:
    img = np.asarray(img, dtype=np.float32)
    if img.shape[0] == 1:
        ax.imshow(img[0], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    else:
        ax.imshow(np.clip(img.transpose(1, 2, 0), 0, 1), interpolation="nearest")


def _overlay(ax: Axes, img: np.ndarray, amap: np.ndarray, scale: float) -> None:
    gray = np.asarray(img, dtype=np.float32).mean(0)
    ax.imshow(gray, cmap="gray", vmin=0, vmax=1, interpolation="nearest")
    ax.imshow(amap, cmap=CMAP, norm=TwoSlopeNorm(0, -scale, scale), alpha=0.6, interpolation="nearest")


def plot_attribution_grid(fig: Figure, images: np.ndarray, attributions: np.ndarray, titles: Sequence[str] = (),
                          colors: Sequence[str] | None = None) -> None:
    """Three rows per sample column: original, heat map, overlay; one shared signed scale and a colour bar."""
    n = len(images)
    if n == 0:
        return
    maps = [attribution_map(a) for a in attributions]
    scale = shared_scale(maps)
    axes = fig.subplots(3, n, squeeze=False)
    mappable = None
    for i in range(n):
        _show_image(axes[0, i], images[i])
        if i < len(titles):
            axes[0, i].set_title(titles[i], fontsize=8, color=colors[i] if colors else "black")
        mappable = axes[1, i].imshow(maps[i], cmap=CMAP, norm=TwoSlopeNorm(0, -scale, scale), interpolation="nearest")
        _overlay(axes[2, i], images[i], maps[i], scale)
        for row in range(3):
            axes[row, i].set_xticks([])
            axes[row, i].set_yticks([])
    for row, label in enumerate(("input", "attribution", "overlay")):
        axes[row, 0].set_ylabel(label, fontsize=8)
    if mappable is not None:
        fig.colorbar(mappable, ax=axes[:, -1], shrink=0.6, label="attribution")


def plot_timeline_strip(fig: Figure, images: np.ndarray, frames: Sequence[np.ndarray], epochs: Sequence[int],
                        predictions: Sequence[Sequence[int]], confidence: Sequence[Sequence[float]],
                        classes: Sequence[str], max_frames: int = 8) -> None:
    """Rows: probes; columns: epochs (evenly picked): how the evidence moved during training. Each tile is titled
    with the predicted class and its probability; one colour scale holds for every tile."""
    if not len(frames):
        return
    picks = np.unique(np.linspace(0, len(frames) - 1, min(max_frames, len(frames))).round().astype(int))
    maps = [[attribution_map(frames[f][p]) for p in range(len(images))] for f in picks]
    scale = shared_scale([m for row in maps for m in row])
    axes = fig.subplots(len(images), len(picks), squeeze=False)
    for col, f in enumerate(picks):
        for p in range(len(images)):
            ax = axes[p, col]
            _overlay(ax, images[p], maps[col][p], scale)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f"{classes[predictions[f][p]]} ({confidence[f][p]:.0%})", fontsize=7)
        axes[0, col].set_title(f"epoch {epochs[f] + 1}\n" + axes[0, col].get_title(), fontsize=7)
    fig.suptitle("predicted class (its probability); red: evidence for it, blue: against, on one scale for "
                 "every epoch", fontsize=8)


def plot_feature_bars(ax: Axes, values: np.ndarray, names: Sequence[str], top: int = 12, title: str = "") -> None:
    """Signed attributions of one sample's features, largest magnitude first."""
    values = np.asarray(values, dtype=np.float32)
    order = np.argsort(-np.abs(values))[:top][::-1]
    ax.barh([names[i] for i in order], values[order], color=["#c44e52" if v > 0 else "#4c72b0" for v in values[order]])
    ax.axvline(0, color="#444", lw=0.8)
    ax.tick_params(labelsize=7)
    if title:
        ax.set_title(title, fontsize=8)


def plot_global_importance(ax: Axes, attributions: np.ndarray, names: Sequence[str], top: int = 15) -> None:
    """Mean |attribution| per feature over many samples: what the model relies on overall."""
    importance = np.abs(np.asarray(attributions, dtype=np.float32)).mean(0)
    order = np.argsort(-importance)[:top][::-1]
    ax.barh([names[i] for i in order], importance[order], color="#55a868")
    ax.set_xlabel("mean |attribution|", fontsize=8)
    ax.tick_params(labelsize=7)


def token_html(words: Sequence[str], values: Sequence[float], scale: float | None = None) -> str:
    """Words with a background from blue (against the class) to red (for it), on one scale; subword pieces are
    shown as `readable_tokens` writes them."""
    words = readable_tokens(words)
    values = np.asarray(values, dtype=np.float32)[: len(words)]
    scale = scale or float(np.abs(values).max()) or 1.0
    spans = []
    for word, v in zip(words, values):
        a = min(1.0, abs(float(v)) / scale)
        rgb = "196,78,82" if v > 0 else "76,114,176"
        spans.append(f"<span title='{v:+.3f}' style='background:rgba({rgb},{a:.2f});padding:1px 2px;"
                     f"border-radius:2px'>{html.escape(word)}</span>")
    return " ".join(spans)
