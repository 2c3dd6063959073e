"""Attacks work in user units before the run's normalization, agree with torchattacks, and refuse bad input."""

from __future__ import annotations

import math

import pytest
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.data.normalize import NormStats
from lepton_nb.models.quantize import quantize_model
from lepton_nb.robust import AttackError, InputSpace, UserSpaceModel, attack, fgsm, pgd, run_attack
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def run() -> lnb.Run:
    return lnb.train(tiny_recipe(name="attacked", **{"train.epochs": 3}), out=None, progress=False)


def image_space(mean: float = 0.4, std: float = 0.25) -> InputSpace:
    one = torch.ones(1, 1, 1, 1)
    norm = NormStats("mean_std", [mean], [std], [mean], [std], [0.0], [1.0], 100)
    return InputSpace("image", norm, one, torch.zeros_like(one), one.clone(), "pixels")


class Tiny(nn.Module):
    def __init__(self):
        super().__init__()
        torch.manual_seed(0)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 16), nn.ReLU(), nn.Linear(16, 3))

    def forward(self, x):
        return self.net(x)


def batch(n: int = 24) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(1)
    return torch.rand(n, 1, 8, 8, generator=g), torch.randint(0, 3, (n,), generator=g)


def test_fgsm_and_pgd_match_torchattacks_on_the_same_inputs():
    torchattacks = pytest.importorskip("torchattacks")
    space, model = image_space(), Tiny().eval()
    net = UserSpaceModel(model, space)
    x, y = batch()
    ours = fgsm(net, space, x, y, 0.1)
    theirs = torchattacks.FGSM(net, eps=0.1)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6)
    ours = pgd(net, space, x, y, 0.1, steps=7, alpha=0.02, random_start=False)
    theirs = torchattacks.PGD(net, eps=0.1, alpha=0.02, steps=7, random_start=False)(x, y)
    assert torch.allclose(ours, theirs, atol=1e-6)
    assert (ours != x).any()


@pytest.mark.parametrize("method", ["fgsm", "pgd", "pgd_l2", "fgsm_rs", "noise"])
def test_perturbation_stays_in_the_eps_ball_in_pixel_units_and_in_the_valid_range(method):
    space, model = image_space(std=0.25), Tiny()
    net = UserSpaceModel(model, space)
    x, y = batch()
    model.train()
    adv = run_attack(method, net, space, x, y, 0.05, steps=5)
    assert model.training  # the mode the model had is given back
    delta = adv - x
    if method == "pgd_l2":
        assert delta.flatten(1).norm(dim=1).max() <= 0.05 + 1e-5
    else:
        assert delta.abs().max() <= 0.05 + 1e-6  # pixels, not normalized units (0.05 / 0.25 = 0.2 there)
    assert adv.min() >= 0 and adv.max() <= 1
    assert all(p.grad is None for p in model.parameters())
    if method in ("fgsm", "pgd"):
        assert math.isclose(float(delta.abs().max()), 0.05, rel_tol=1e-4)


def test_attack_on_a_run_uses_pixel_units_and_lowers_accuracy(run):
    result = attack(run, "pgd", eps=0.15, n=64)
    assert len(result) == 64
    assert float(result.perturbation.abs().max()) <= 0.15 + 1e-6
    assert result.adversarial.min() >= 0 and result.adversarial.max() <= 1
    assert result.accuracy_after < result.accuracy_before - 0.2
    assert 0.2 < result.success_rate <= 1.0
    # the model sees the run's normalization of the perturbed pixels: predictions agree with the Predictor
    model, data = run.model_space()
    model.eval()
    with torch.no_grad():
        direct = model(data.norm.apply(result.adversarial)).argmax(1)
    assert torch.equal(direct, result.pred_after)
    again = attack(run, "pgd", eps=0.15, n=64)
    assert torch.equal(again.adversarial, result.adversarial)  # seeded


def test_tabular_eps_is_in_standard_deviations_of_each_column():
    r = lnb.Recipe.preset("wine").updated({"train.epochs": 2})
    tab = lnb.train(r, out=None, progress=False)
    result = attack(tab, "fgsm", eps=0.5, n=20)
    std = torch.tensor(tab.load_data().norm.std)
    ratio = (result.perturbation.abs() / std).max()
    assert ratio <= 0.5 + 1e-4 and ratio > 0.1


@pytest.mark.parametrize(("kwargs", "field"), [
    ({"eps": -0.1}, "eps"), ({"eps": float("nan")}, "eps"), ({"eps": 2.0}, "eps"), ({"eps": "big"}, "eps"),
    ({"steps": 0}, "steps"), ({"method": "deepfool"}, "method"), ({"split": "holdout"}, "split"),
    ({"indices": [10**6]}, "indices"), ({"n": 0}, "n"),
])
def test_bad_requests_name_the_field_and_what_is_allowed(run, kwargs, field):
    with pytest.raises(AttackError) as err:
        attack(run, **kwargs)
    assert isinstance(err.value, lnb.LeptonError)
    assert field in str(err.value) and "allowed" in str(err.value)


def test_text_runs_and_models_without_gradients_are_refused_clearly(tmp_path):
    from tests.conftest import write_sentiment

    text = lnb.train(lnb.Recipe.preset("sentiment").updated({
        "data.path": str(write_sentiment(tmp_path / "s.txt")), "train.epochs": 1}), out=None, progress=False)
    with pytest.raises(AttackError, match="text"):
        attack(text, "fgsm", eps=0.1)
    space, model = image_space(), Tiny().eval()
    quantized = quantize_model(model)
    x, y = batch()
    with pytest.raises(AttackError, match="gradients"):
        fgsm(UserSpaceModel(quantized, space), space, x, y, 0.1)


def test_attack_and_robustness_leave_every_layer_of_the_run_in_the_mode_it_had(run):
    model, _ = run.model_space()
    for wanted in (False, True):
        model.train(wanted)
        model.features[0].train(not wanted)  # a mixed state, as a fine-tuned model with frozen parts has
        before = [m.training for m in model.modules()]
        attack(run, "pgd", eps=0.1, n=8, steps=2)
        assert [m.training for m in model.modules()] == before
        lnb.robustness(run, eps=(0.0, 0.1), n=16, steps=2, save=False)
        assert [m.training for m in model.modules()] == before
    model.eval()


def test_pgd_l2_takes_l2_budgets_up_to_the_norm_of_the_whole_input_range(run):
    data = run.load_data()
    dims = math.prod(data.input_shape)  # 8×8 digits: the whole range is sqrt(64) = 8 pixels in L2
    result = attack(run, "pgd_l2", eps=2.0, n=16, steps=5)
    norms = result.perturbation.flatten(1).norm(dim=1)
    assert float(norms.max()) <= 2.0 + 1e-4 and float(norms.max()) > 1.0
    curve = lnb.robustness(run, eps=(0.0, 1.5, 2.0), methods=("pgd_l2",), n=16, steps=3, save=False)[0]
    assert curve.eps == [0.0, 1.5, 2.0]
    with pytest.raises(AttackError, match=r"pgd_l2.*0 to 8 .*64 values"):
        attack(run, "pgd_l2", eps=math.sqrt(dims) + 0.5)
    with pytest.raises(AttackError, match=r"for fgsm: a number from 0 to 1 "):  # L∞ budgets stay per pixel
        lnb.robustness(run, eps=(0.0, 1.5), methods=("fgsm", "pgd_l2"), n=16, save=False)
