"""Trust checks of attributions: infidelity, max-sensitivity and the model-randomization sanity check."""

import pytest
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.interpret.attribution import InterpretError
from lepton_nb.interpret.trust import RANDOMIZATION_LIMIT, randomized_copy, trust
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def run():
    return lnb.train(tiny_recipe(train__epochs=3), out=None, progress=False)


def test_scores_of_a_trained_model_are_finite_seeded_and_explained(run):
    x = run.data.inputs("test")[:6]
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    report = trust(run.model, x, run.data, "saliency")
    again = trust(run.model, x, run.data, "saliency")
    assert report == again  # seeded: the same numbers every time
    assert report.infidelity >= 0 and report.sensitivity > 0 and report.n == 6
    assert report.passes_randomization and report.randomization_similarity < RANDOMIZATION_LIMIT
    assert [r["check"] for r in report.rows()] == ["infidelity", "max-sensitivity", "model randomization"]
    assert all(len(r["reading"]) > 30 for r in report.rows())
    assert all(torch.equal(v, before[k]) for k, v in run.model.state_dict().items())  # the model is untouched


class Identity(nn.Module):
    """A 'model' whose saliency is the same whatever its weights: the check must fail it."""

    def __init__(self):
        super().__init__()
        self.scale = nn.Linear(1, 1)

    def forward(self, x):
        s = x.flatten(1)
        return torch.stack([(s * s).sum(1) * self.scale.weight[0, 0].abs().clamp(min=1e-3) + 0 * i
                            for i in range(10)], 1) * torch.linspace(1, 2, 10)


def test_an_explanation_that_ignores_the_weights_fails_randomization(run):
    report = trust(Identity(), run.data.inputs("test")[:6], run.data, "saliency")
    assert not report.passes_randomization and report.randomization_similarity > 0.9
    assert "fails" in report.rows()[2]["reading"]


def test_randomized_copy_changes_every_layer_and_not_the_model(run):
    before = {k: v.clone() for k, v in run.model.state_dict().items()}
    copy = randomized_copy(run.model, seed=1)
    weights = [k for k, v in before.items() if v.dtype.is_floating_point and v.dim() > 1]
    assert all(not torch.equal(copy.state_dict()[k], before[k]) for k in weights)
    assert all(torch.equal(run.model.state_dict()[k], v) for k, v in before.items())


def test_text_runs_are_refused_with_a_reason(text_run):
    text = text_run
    with pytest.raises(InterpretError, match="word ids"):
        trust(text.model, text.data.inputs("test")[:2], text.data, "integrated_gradients")
