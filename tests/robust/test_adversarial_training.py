"""Adversarial training from the recipe: robust validation accuracy logged live, seeded, validated."""

from __future__ import annotations

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.robust import robustness_curve
from tests.conftest import tiny_recipe


def adversarial(method: str, **more) -> lnb.Recipe:
    return tiny_recipe(name=f"adv-{method}", **{"train.epochs": 3, "train.adversarial.method": method,
                                                 "train.adversarial.eps": 0.1, "train.adversarial.steps": 3,
                                                 "train.adversarial.val_samples": 64, **more})


@pytest.mark.parametrize("method", ["pgd", "fgsm_rs"])
def test_adversarial_training_logs_robust_accuracy_and_its_cost(method):
    run = lnb.train(adversarial(method), out=None, progress=False)
    assert run.status == "completed"
    robust = [e["val_robust_accuracy"] for e in run.history.epochs]
    assert len(robust) == 3 and all(0.0 <= r <= 1.0 for r in robust)
    assert all(e["adversarial_seconds"] > 0 for e in run.history.epochs)
    assert run.history.length("val_robust_accuracy") == 3


def test_adversarial_training_makes_the_model_more_robust_than_standard_training():
    base = lnb.Recipe.default().updated({"train.epochs": 3})  # all of digits: a model worth attacking
    standard = lnb.train(base, out=None, progress=False)
    robust = lnb.train(base.updated({"train.adversarial.method": "fgsm_rs", "train.adversarial.eps": 0.1}), out=None,
                       progress=False)
    at = lambda r: robustness_curve(r, eps=[0.1], n=200, methods=("pgd",), checks=False).accuracy["pgd"][0]  # noqa: E731
    assert at(robust) > at(standard) + 0.05


def test_adversarial_training_is_seeded():
    a = lnb.train(adversarial("pgd"), out=None, progress=False)
    b = lnb.train(adversarial("pgd"), out=None, progress=False)
    for pa, pb in zip(a.model.state_dict().values(), b.model.state_dict().values()):
        assert torch.equal(pa, pb)


@pytest.mark.parametrize(("key", "value"), [("train.adversarial.eps", -0.1), ("train.adversarial.eps", 3.0),
                                            ("train.adversarial.steps", 0), ("train.adversarial.method", "cw")])
def test_bad_adversarial_settings_are_recipe_errors(key, value):
    with pytest.raises(lnb.RecipeError, match=key.replace(".", r"\.")):
        tiny_recipe(**{key: value})
