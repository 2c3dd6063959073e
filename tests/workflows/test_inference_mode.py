"""A trained model is handed back ready for inference: in eval mode from every run, predictor and fold."""

from __future__ import annotations

import torch

import lepton_nb as lnb
from lepton_nb.training.observers import Observers
from lepton_nb.workflows.kfold import fit_fold
from lepton_nb.workflows.plan import RunOptions
from tests.conftest import tiny_recipe, write_sentiment
from tests.workflows.test_transformers import text_recipe


def test_a_trained_run_gives_its_model_in_eval_mode_and_a_forward_pass_changes_nothing(tmp_path):
    run = lnb.train(tiny_recipe(**{"train.epochs": 1}), progress=False, out=tmp_path, report=False)
    assert run.model.training is False and not any(m.training for m in run.model.modules())
    x = run.data.inputs("test")[:8]
    stats = {k: v.clone() for k, v in run.model.state_dict().items()}
    with torch.no_grad():
        first, second = run.model(x), run.model(x[:3])
    assert torch.allclose(first[:3], second, atol=1e-5)  # no batch statistics: logits do not depend on the batch
    assert all(torch.equal(v, run.model.state_dict()[k]) for k, v in stats.items())  # running stats untouched
    assert run.predictor().model.training is False
    assert lnb.load_run(run.dir).model.training is False


def test_a_cross_validation_fold_and_a_pretraining_run_hand_back_eval_models(tmp_path, digits_bundle):
    model, status = fit_fold(tiny_recipe(**{"train.epochs": 1}), digits_bundle, None, Observers(), RunOptions())
    assert status == "completed" and model.training is False
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv", n=80), **{"pretrain.epochs": 1})
    assert lnb.pretrain(recipe, progress=False, out=None).model.training is False
