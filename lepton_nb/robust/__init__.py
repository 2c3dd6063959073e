"""Robustness: adversarial examples in the units the user sees, accuracy-vs-ε curves with sanity checks
against gradient masking, and the adversary used by adversarial training.

A building block beside ``models``: it needs only the data's normalization and a classifier, so the
trainer (adversarial training) and the user-facing `attack`/`robustness` share one implementation.
"""

from .attacks import ATTACKS, fgsm, fgsm_rs, noise, pgd, run_attack
from .checks import Check
from .curve import AttackResult, RobustnessCurve, attack, robustness_curve
from .plots import plot_attack, plot_robustness
from .space import AttackError, InputSpace, UserSpaceModel
from .training import Adversary

__all__ = [
    "ATTACKS", "Adversary", "AttackError", "AttackResult", "Check", "InputSpace", "RobustnessCurve",
    "UserSpaceModel", "attack", "fgsm", "fgsm_rs", "noise", "pgd", "plot_attack", "plot_robustness",
    "robustness_curve", "run_attack",
]
