"""Figures of robustness: accuracy-vs-ε curves and original | perturbation | adversarial grids.

Each function draws on the axis or figure it is given and never calls ``show()``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from .curve import AttackResult, RobustnessCurve

STYLES = {"fgsm": "--", "pgd": "-", "pgd_l2": "-.", "fgsm_rs": ":", "noise": ":"}


def plot_robustness(ax: Any, curves: Sequence[RobustnessCurve]) -> None:
    """Accuracy against ε, one colour per run and one line style per attack; failed checks in the title."""
    colors = [f"C{i}" for i in range(10)]
    for i, curve in enumerate(curves):
        for method, acc in curve.accuracy.items():
            ax.plot(curve.eps, acc, STYLES.get(method, "-"), marker="o", ms=3, color=colors[i % 10],
                    label=f"{curve.run} · {method}" if len(curves) > 1 else method)
    unit = curves[0].unit_name if curves else ""
    ax.set_xlabel(f"ε ({unit})")
    ax.set_ylabel("accuracy")
    ax.set_ylim(0, 1.02)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    warned = sum(len(c.warnings) for c in curves)
    ax.set_title("accuracy under attack" + (f" · ⚠ {warned} sanity check(s) failed" if warned else ""), fontsize=10)


def plot_attack(fig: Any, result: AttackResult, k: int = 6, amplify: float | None = None) -> None:
    """Image runs: rows of original | perturbation (signed, amplified) | adversarial, with predictions."""
    k = min(k, len(result))
    axes = fig.subplots(k, 3, squeeze=False)
    delta = result.perturbation
    scale = amplify or (1.0 / max(float(delta.abs().max()), 1e-12))
    for row in range(k):
        img, adv, d = result.inputs[row], result.adversarial[row], delta[row]
        show = [img, d, adv]
        titles = [f"{result.classes[result.pred_before[row]]} {result.conf_before[row]:.0%}",
                  f"perturbation ×{scale:.3g}",
                  f"{result.classes[result.pred_after[row]]} {result.conf_after[row]:.0%}"]
        for col, (ax, t, title) in enumerate(zip(axes[row], show, titles)):
            arr = t.numpy()
            if col == 1:  # signed: blue negative, red positive, white unchanged
                ax.imshow(np.clip(arr.mean(0) * scale, -1, 1), cmap="bwr", vmin=-1, vmax=1)
            else:
                ax.imshow(arr[0] if arr.shape[0] == 1 else arr.transpose(1, 2, 0), cmap="gray", vmin=0, vmax=1)
            wrong = col == 2 and result.pred_after[row] != result.labels[row]
            ax.set_title(title, fontsize=8, color="#c62828" if wrong else "black")
            ax.axis("off")
