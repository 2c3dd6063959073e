"""Adversarial training from the recipe: robust validation accuracy logged live, seeded, validated."""

from __future__ import annotations

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.robust import robustness_curve
from lepton_nb.training.callbacks import Callback
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


class PassCounter(Callback):
    """Forward and backward passes of the model within each training batch (validation passes are not counted)."""

    def __init__(self) -> None:
        self.forward = self.backward = 0
        self.per_batch: list[tuple[int, int]] = []

    def attach(self, trainer) -> None:
        super().attach(trainer)
        trainer.model.register_forward_hook(lambda *_: setattr(self, "forward", self.forward + 1))
        trainer.model.register_full_backward_hook(lambda *_: setattr(self, "backward", self.backward + 1))

    def on_batch_start(self, event) -> None:
        self.start = (self.forward, self.backward)

    def on_batch_end(self, event) -> None:
        self.per_batch.append((self.forward - self.start[0], self.backward - self.start[1]))


@pytest.mark.filterwarnings("ignore:Full backward hook is firing")  # the batch's inputs need no gradient
@pytest.mark.parametrize(("method", "passes"), [("none", 1), ("fgsm_rs", 2), ("pgd", 3 + 1)])
def test_a_training_batch_costs_what_the_tutorial_says(method, passes):
    """Notebook 10: standard training one forward and backward pass per batch, FGSM-RS two, PGD steps + 1."""
    counter = PassCounter()
    lnb.train(adversarial(method, **{"train.epochs": 1}), out=None, progress=False, callbacks=[counter])
    assert counter.per_batch and set(counter.per_batch) == {(passes, passes)}
