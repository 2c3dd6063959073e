import numpy as np
import pytest
import torch
from captum.attr import IntegratedGradients, LayerIntegratedGradients, Saliency

import lepton_nb as lnb
from lepton_nb.interpret import METHODS, InterpretError, explain, fitting_methods, methods_for_kind


def batch(run, n=6, split="test"):
    return run.data.inputs(split)[:n], run.data.labels(split)[:n]


def test_integrated_gradients_is_complete_on_a_trained_model(digits_run):
    x, y = batch(digits_run, 8)
    exp = explain(digits_run, x, "integrated_gradients", target="true", labels=y, n_steps=200)
    model = digits_run.model.eval()
    with torch.no_grad():
        gap = model(x)[torch.arange(8), y] - model(torch.zeros_like(x))[torch.arange(8), y]
    sums = exp.attributions.flatten(1).sum(1)
    assert torch.allclose(sums, gap, atol=2e-2 * gap.abs().max().item() + 1e-3)
    assert exp.delta.abs().max() < 2e-2 * gap.abs().max()
    assert digits_run.metrics["accuracy"] > 0.9


def test_results_equal_a_direct_captum_call(digits_run, text_run):
    x, _ = batch(digits_run)
    exp = explain(digits_run, x, "integrated_gradients", target=3, n_steps=40)
    model = lnb.interpret.attribution_copy(digits_run.model)
    direct = IntegratedGradients(model).attribute(x.clone().requires_grad_(), torch.zeros_like(x), target=3,
                                                  n_steps=40)
    assert torch.allclose(exp.attributions, direct, atol=1e-6)
    sal = explain(digits_run, x, "saliency", target=1)
    assert torch.allclose(sal.attributions, Saliency(model).attribute(x.clone().requires_grad_(), target=1, abs=True))
    ids, _ = batch(text_run)
    tmodel = lnb.interpret.attribution_copy(text_run.model)
    lig = LayerIntegratedGradients(tmodel, tmodel.features.embedding).attribute(
        ids, torch.zeros_like(ids), target=1, n_steps=20).sum(-1)
    ours = explain(text_run, ids, "layer_integrated_gradients", target=1, n_steps=20)
    assert torch.allclose(ours.attributions, lig, atol=1e-6)


@pytest.mark.parametrize("method", methods_for_kind("image"))
def test_every_image_method_returns_the_input_shape(digits_run, method):
    x, y = batch(digits_run, 4)
    small = {k: (4 if k in ("n_steps", "n_samples", "nt_samples") else v.default)
             for k, v in METHODS[method].params.items()}
    exp = explain(digits_run, x, method, labels=y, **small)
    assert exp.attributions.shape == x.shape and torch.isfinite(exp.attributions).all()
    assert exp.predictions.shape == (4,) and ((exp.confidence > 0) & (exp.confidence <= 1)).all()
    assert (exp.delta is not None) == METHODS[method].delta


@pytest.mark.parametrize("method", methods_for_kind("tabular"))
def test_every_tabular_method_returns_the_input_shape(wine_run, method):
    x, y = batch(wine_run, 5)
    small = {k: (4 if k in ("n_steps", "n_samples", "nt_samples") else v.default)
             for k, v in METHODS[method].params.items()}
    exp = explain(wine_run, x, method, **small)
    assert exp.attributions.shape == x.shape and torch.isfinite(exp.attributions).all()


def test_text_attributions_are_per_word(text_run):
    ids, y = batch(text_run, 5)
    exp = explain(text_run, ids, "layer_integrated_gradients", target="true", labels=y)
    assert exp.attributions.shape == ids.shape
    assert (exp.attributions[ids == 0].abs() < 1e-6).all()  # padding carries no evidence
    assert exp.delta.abs().max() < 0.1


def test_method_that_does_not_fit_lists_those_that_do(wine_run):
    x, _ = batch(wine_run, 2)
    with pytest.raises(InterpretError) as info:
        explain(wine_run, x, "grad_cam")
    msg = str(info.value)
    assert "interpret.method: 'grad_cam' — not for tabular data" in msg and "feature_ablation" in msg
    assert "grad_cam" not in fitting_methods(wine_run.model, "tabular")
    with pytest.raises(InterpretError, match="occlusion stride: 4 — allowed: at most the window"):
        explain(wine_run, x, "occlusion", window=2, stride=4)
    with pytest.raises(InterpretError, match="n_stepz"):
        explain(wine_run, x, "integrated_gradients", n_stepz=3)


def test_grad_cam_needs_a_conv_layer():
    mlp = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    with pytest.raises(InterpretError, match="no Conv2d layer; methods that fit this model: integrated_gradients"):
        explain(mlp, torch.rand(2, 1, 8, 8), "grad_cam")


def test_explaining_leaves_model_and_rng_untouched(digits_run):
    model = digits_run.model.train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    rng, np_rng = torch.get_rng_state(), np.random.get_state()[1].copy()
    x, _ = batch(digits_run, 3)
    for method in ("integrated_gradients", "gradient_shap", "smoothgrad", "deeplift"):
        explain(digits_run, x, method, n_samples=4) if method == "gradient_shap" else explain(digits_run, x, method)
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert torch.equal(rng, torch.get_rng_state()) and (np.random.get_state()[1] == np_rng).all()
    a = explain(digits_run, x, "gradient_shap", n_samples=4, seed=1).attributions
    b = explain(digits_run, x, "gradient_shap", n_samples=4, seed=1).attributions
    assert torch.equal(a, b)


def test_baselines_and_targets(digits_run, wine_run):
    x, y = batch(digits_run, 3)
    zeros = explain(digits_run, x, "integrated_gradients")
    blur = explain(digits_run, x, "integrated_gradients", baseline="blur")
    mean = explain(digits_run, x, "integrated_gradients", baseline="mean")
    assert not torch.allclose(zeros.attributions, blur.attributions)
    assert not torch.allclose(zeros.attributions, mean.attributions)
    assert torch.equal(explain(digits_run, x, "saliency", target="true", labels=y).target, y)
    with pytest.raises(InterpretError, match="needs the labels"):
        explain(digits_run, x, "saliency", target="true")
    with pytest.raises(InterpretError, match="from 0 to 9"):
        explain(digits_run, x, "saliency", target=12)
    with pytest.raises(InterpretError, match="'blur' — for images only"):
        explain(wine_run, batch(wine_run, 2)[0], "integrated_gradients", baseline="blur")
    with pytest.raises(InterpretError, match="needs the data"):
        explain(digits_run.model, x, "integrated_gradients", baseline="mean")
