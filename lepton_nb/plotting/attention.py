"""Attention figures: one head's weights as a token × token heat map, and rollout per token as bars."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from .attributions import readable_tokens


def plot_attention_head(ax: Axes, weights: np.ndarray, tokens: Sequence[str], title: str = "") -> None:
    """[n, n] weights: row = the token looking, column = the token looked at (each row sums to 1); subword
    pieces as `readable_tokens` writes them."""
    tokens = readable_tokens(tokens)
    ax.imshow(np.asarray(weights), cmap="viridis", vmin=0.0, vmax=max(1e-6, float(np.max(weights))))
    ax.set_xticks(range(len(tokens)), list(tokens), rotation=90, fontsize=7)
    ax.set_yticks(range(len(tokens)), list(tokens), fontsize=7)
    ax.set_xlabel("looked at", fontsize=8)
    ax.set_ylabel("looking", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)


def plot_rollout(ax: Axes, values: np.ndarray, tokens: Sequence[str], title: str = "attention rollout") -> None:
    """Each token's share of the sentence vector (attention rollout), as horizontal bars in reading order."""
    tokens = readable_tokens(tokens)
    values = np.asarray(values, dtype=np.float64)
    pos = np.arange(len(tokens))
    ax.barh(pos, values, color="#5b8def")
    ax.set_yticks(pos, list(tokens), fontsize=8)
    ax.invert_yaxis()
    ax.set_xlabel("share", fontsize=8)
    ax.set_title(title, fontsize=9)


def plot_attention_grid(fig: Figure, weights: np.ndarray, tokens: Sequence[str]) -> None:
    """Every layer (rows) × head (columns) of one sentence, small multiples without tick labels."""
    layers, heads = weights.shape[:2]
    axes = fig.subplots(layers, heads, squeeze=False)
    for i in range(layers):
        for j in range(heads):
            ax = axes[i, j]
            ax.imshow(weights[i, j], cmap="viridis", vmin=0.0)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"head {j}", fontsize=8)
            if j == 0:
                ax.set_ylabel(f"layer {i}", fontsize=8)
    fig.suptitle(" ".join(readable_tokens(tokens))[:120], fontsize=8)
