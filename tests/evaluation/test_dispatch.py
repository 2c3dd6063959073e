"""`lnb.evaluate` and `lnb.explain` dispatch on explicit protocols: a Predictor normalizes its own inputs,
a Run's classifier takes model-space inputs; neither may be mistaken for the other."""

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.errors import UsageError
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    return lnb.train(tiny_recipe(interpret__enabled=False), progress=False, out=tmp_path_factory.mktemp("runs"))


def test_a_predictor_is_evaluated_as_itself_not_as_a_run(trained):
    from_run = lnb.evaluate(trained)
    predictor = trained.predictor()
    loaded = lnb.load_run(trained.dir).predictor()
    for p in (predictor, loaded):
        ev = lnb.evaluate(p)
        assert ev.metrics["accuracy"] == pytest.approx(from_run.metrics["accuracy"], abs=1e-9)
        assert (ev.confusion == from_run.confusion).all()
    model = trained.model
    bare = lnb.evaluate(model, trained.data, metrics=trained.recipe.evaluate.metrics)  # a bare model needs its data
    assert bare.metrics == from_run.metrics


def test_explaining_a_predictor_explains_the_same_predictions_as_the_run(trained):
    x = trained.data.inputs("test")[:16]
    by_run = lnb.explain(trained, x, method="saliency")
    by_predictor = lnb.explain(lnb.load_run(trained.dir).predictor(), x, method="saliency")
    assert torch.equal(by_run.predictions, by_predictor.predictions)
    assert torch.allclose(by_run.attributions, by_predictor.attributions, atol=1e-5)


def test_what_cannot_be_evaluated_or_explained_is_named(trained):
    with pytest.raises(UsageError, match="evaluate: 'str' — allowed: a Run, a Predictor"):
        lnb.evaluate("runs/x")
    with pytest.raises(UsageError, match="data: None — evaluate\\(model, data\\)"):
        lnb.evaluate(trained.model)
    with pytest.raises(lnb.LeptonError, match="model: 'int' — allowed: a Run, a Predictor"):
        lnb.explain(3, trained.data.inputs("test")[:2])
