"""Robustness curves: monotone for a real model, and the sanity checks catch a model that masks gradients."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402

import lepton_nb as lnb  # noqa: E402
from lepton_nb.robust import RobustnessCurve, plot_attack, plot_robustness, robustness_curve  # noqa: E402
from lepton_nb.robust.checks import run_checks  # noqa: E402


@pytest.fixture(scope="module")
def run() -> lnb.Run:
    return lnb.train(lnb.Recipe.default().updated({"train.epochs": 3, "name": "curve"}), out=None, progress=False)


class Masked(nn.Module):
    """Rounds its inputs to a coarse grid first: zero gradients everywhere, so gradient attacks stall."""

    def __init__(self, model: nn.Module):
        super().__init__()
        self.model = model

    def forward(self, x):
        return self.model(torch.round(x * 2) / 2)


class MaskedRun:
    def __init__(self, run):
        self.run, self.name = run, "masked"

    def model_space(self, data=None):
        model, data = self.run.model_space(data)
        return Masked(model), data


def test_curve_of_a_trained_model_passes_every_check(run):
    curve = robustness_curve(run, eps=[0.0, 0.05, 0.1, 0.2], n=200)
    assert curve.eps == [0.0, 0.05, 0.1, 0.2] and curve.n == 200
    pgd, fgsm = curve.accuracy["pgd"], curve.accuracy["fgsm"]
    assert pgd[0] == fgsm[0] == curve.accuracy["noise"][0] > 0.8  # ε = 0 is the clean accuracy
    assert pgd[-1] < 0.2 < pgd[0]
    assert [c.name for c in curve.warnings] == []
    assert len(curve.checks) == 7
    assert RobustnessCurve.from_dict(curve.to_dict()) == curve
    assert "robustness" not in run.extras  # the building block keeps nothing; lnb.robustness saves the curve
    assert {row["eps"] for row in curve.table()} == set(curve.eps)


def test_a_gradient_masking_model_is_flagged(run):
    curve = robustness_curve(MaskedRun(run), eps=[0.0, 0.1, 0.3], n=200)
    failed = {c.name for c in curve.warnings}
    assert "random noise is not stronger than PGD" in failed or \
        "an ε covering the whole input range drives accuracy to chance or below" in failed
    assert all(c.detail != "ok" for c in curve.warnings)


def test_checks_name_each_violation():
    checks = run_checks([0.0, 0.1, 0.2], {"fgsm": [0.9, 0.5, 0.6], "pgd": [0.9, 0.6, 0.1], "noise": [0.9, 0.3, 0.2]},
                        n=1000, n_classes=10, unbounded=0.5, more_steps=(0.1, 0.6, 0.7))
    failed = {c.name for c in checks if not c.passed}
    assert failed == {"fgsm: accuracy does not increase with ε", "PGD is at least as strong as FGSM",
                      "random noise is not stronger than PGD", "more PGD steps are not weaker",
                      "an ε covering the whole input range drives accuracy to chance or below"}


def test_several_runs_compare_on_one_figure(run):
    curves = [robustness_curve(r, eps=[0.0, 0.1], n=50, methods=("pgd",), checks=False) for r in (run, run)]
    assert len(curves) == 2 and curves[0].accuracy == curves[1].accuracy
    fig = plt.figure()
    plot_robustness(fig.subplots(), curves)
    assert len(fig.axes[0].lines) == 2 and "ε" in fig.axes[0].get_xlabel()
    plt.close(fig)
    fig = plt.figure()
    plot_attack(fig, lnb.robust.attack(run, "fgsm", 0.1, n=3))
    assert len(fig.axes) == 9
    plt.close(fig)
