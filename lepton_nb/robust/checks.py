"""Sanity checks that flag gradient masking, after Carlini et al., "On Evaluating Adversarial Robustness" (2019).

A model can look robust only because its gradients are useless to the attack. Each check compares
accuracies the curve measured; a failed check names what is suspicious and what to try.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any


@dataclass
class Check:
    name: str
    passed: bool
    detail: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def tolerance(n: int) -> float:
    """Accuracy differences smaller than this are noise: one percentage point plus one sample."""
    return 0.01 + 1.0 / max(1, n)


def run_checks(eps: list[float], acc: dict[str, list[float]], n: int, n_classes: int,
               unbounded: float | None, more_steps: tuple[float, float, float] | None) -> list[Check]:
    """``acc[method][i]`` is the accuracy at ``eps[i]``; ``unbounded`` the PGD accuracy with an ε covering the
    whole valid range; ``more_steps`` (ε, accuracy with the usual steps, accuracy with twice as many)."""
    tol = tolerance(n)
    checks = []
    for method, values in acc.items():
        rises = [(eps[i], values[i], values[i + 1]) for i in range(len(values) - 1)
                 if values[i + 1] > values[i] + tol]
        checks.append(Check(
            f"{method}: accuracy does not increase with ε", not rises,
            "ok" if not rises else "accuracy rose from {1:.3f} to {2:.3f} after ε = {0:g}: the attack is not "
                                   "finding the worst case (gradient masking?)".format(*rises[0])))
    if "pgd" in acc and "fgsm" in acc:
        weaker = [(e, p, f) for e, p, f in zip(eps, acc["pgd"], acc["fgsm"]) if p > f + tol]
        checks.append(Check(
            "PGD is at least as strong as FGSM", not weaker,
            "ok" if not weaker else "at ε = {:g} PGD leaves {:.3f} but FGSM {:.3f}: the loss surface is "
                                    "not smooth for the attack (gradient masking?)".format(*weaker[0])))
    if "pgd" in acc and "noise" in acc:
        stronger = [(e, nz, p) for e, nz, p in zip(eps, acc["noise"], acc["pgd"]) if nz < p - tol]
        checks.append(Check(
            "random noise is not stronger than PGD", not stronger,
            "ok" if not stronger else "at ε = {:g} random noise leaves {:.3f} but PGD {:.3f}: gradients "
                                      "point the wrong way (gradient masking)".format(*stronger[0])))
    if more_steps is not None:
        e, usual, doubled = more_steps
        checks.append(Check(
            "more PGD steps are not weaker", doubled <= usual + tol,
            "ok" if doubled <= usual + tol else f"at ε = {e:g} twice the steps leave {doubled:.3f} vs {usual:.3f}: "
                                                "the attack has not converged"))
    if unbounded is not None:
        chance = 1.0 / max(1, n_classes)
        checks.append(Check(
            "an ε covering the whole input range drives accuracy to chance or below", unbounded <= chance + tol,
            "ok" if unbounded <= chance + tol else f"accuracy stays {unbounded:.3f} (chance {chance:.3f}) when "
                                                    "any input is allowed: the attack cannot use the gradients"))
    return checks
