"""Are the attributions trustworthy? Three checks of one explanation, each with a one-line reading.

* **Infidelity** (captum.metrics, Yeh et al. 2019): how badly attribution × perturbation predicts the change
  of the score under small random perturbations. Lower is better; compare methods on the same samples.
* **Max-sensitivity** (captum.metrics, Yeh et al. 2019): how much the attributions change when the input
  moves a little. Lower is better: a stable explanation.
* **Model randomization** (Adebayo et al. 2018, "Sanity Checks for Saliency Maps"): the same method on the
  same model with re-initialised weights. Attributions that still look alike (high rank correlation) show
  the input, not what the model learned — the method fails the check.

Images and tables only: text inputs are word ids, so small perturbations are not defined for them.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.bundle import DataBundle
from ..recipe import DATA_KINDS
from ..seeding import seeded_global_rng
from .attribution import Explanation, InterpretError, explain

#: rank correlation above which randomized-model attributions count as "the same picture"
RANDOMIZATION_LIMIT = 0.5


@dataclass
class TrustReport:
    """The three scores of one method on some samples, with what each means."""

    method: str
    n: int
    infidelity: float
    sensitivity: float
    randomization_similarity: float

    @property
    def passes_randomization(self) -> bool:
        return self.randomization_similarity < RANDOMIZATION_LIMIT

    def rows(self) -> list[dict[str, Any]]:
        """A table: check, value, reading."""
        verdict = ("passes: the attributions depend on what the model learned" if self.passes_randomization else
                   "fails: a model with random weights gets a similar picture, so it shows the input, not the "
                   "model")
        return [
            {"check": "infidelity", "value": self.infidelity,
             "reading": "how badly attribution × a small perturbation predicts the score's change (lower is "
                        "better; compare methods)"},
            {"check": "max-sensitivity", "value": self.sensitivity,
             "reading": "how much the attributions change when the input moves slightly (lower is steadier)"},
            {"check": "model randomization", "value": self.randomization_similarity,
             "reading": f"rank correlation with the attributions of a randomly re-initialised model: {verdict}"},
        ]


def randomized_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` whose every layer is re-initialised (seeded; the model itself is untouched)."""
    net = copy.deepcopy(model)
    with seeded_global_rng(seed):
        for module in net.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return net


def _rank_correlation(a: torch.Tensor, b: torch.Tensor) -> float:
    """Mean Spearman correlation of |attributions| per sample (sign-free, as Adebayo et al. recommend)."""
    from scipy.stats import spearmanr

    values = []
    for x, y in zip(a.abs().flatten(1).numpy(), b.abs().flatten(1).numpy()):
        if np.ptp(x) == 0 or np.ptp(y) == 0:
            values.append(0.0)
            continue
        values.append(float(spearmanr(x, y).statistic))
    return float(np.mean(values)) if values else float("nan")


def trust(model: nn.Module, inputs: torch.Tensor, data: DataBundle, method: str = "integrated_gradients",
          target: Any = "pred", *, radius: float = 0.02, samples: int = 8, seed: int = 0, **params: Any
          ) -> TrustReport:
    """Infidelity, max-sensitivity and the model-randomization check of ``method`` on ``inputs``
    (model-space, e.g. ``data.inputs("test")[:8]``)."""
    from captum.metrics import infidelity, sensitivity_max

    if DATA_KINDS[data.kind].tokens:
        raise InterpretError("data", "text", "trust checks perturb the inputs slightly, which word ids do not "
                                             "allow; allowed: an image or table run")
    base: Explanation = explain(model, inputs, method, target=target, data=data, seed=seed, **params)
    targets = base.target
    scale = float(inputs.detach().float().std()) or 1.0
    generator = torch.Generator().manual_seed(seed)

    def perturb(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        noise = torch.randn(x.shape, generator=generator).to(x) * radius * scale
        return noise, x - noise

    def explanation(x: Any, target: torch.Tensor) -> tuple[torch.Tensor]:
        x = x[0] if isinstance(x, tuple) else x  # captum passes and expects tuples
        return (explain(model, x, method, target=target, data=data, seed=seed, **params).attributions,)

    net = copy.deepcopy(model).eval()
    with torch.no_grad(), seeded_global_rng(seed):
        infid = infidelity(net, perturb, inputs, base.attributions, target=targets, n_perturb_samples=samples,
                           normalize=True)
    with seeded_global_rng(seed):
        sens = sensitivity_max(explanation, inputs, perturb_radius=radius * scale, n_perturb_samples=samples,
                               target=targets)
    randomized = explain(randomized_copy(model, seed), inputs, method, target=targets, data=data, seed=seed,
                         **params).attributions
    return TrustReport(method, len(inputs), float(infid.mean()), float(sens.mean()),
                       _rank_correlation(base.attributions, randomized))


__all__ = ["RANDOMIZATION_LIMIT", "TrustReport", "randomized_copy", "trust"]
