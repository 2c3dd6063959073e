"""Ensembles average the members' probabilities and are evaluated with sklearn like any model."""

import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import lepton_nb as lnb
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def members(tmp_path_factory):
    """Three runs on the same data: other seeds, another architecture and normalization."""
    out = tmp_path_factory.mktemp("runs")
    return [
        lnb.train(tiny_recipe(**{"name": "a", "train.seed": 1}), out=out, progress=False),
        lnb.train(tiny_recipe(**{"name": "b", "train.seed": 2}), out=out, progress=False),
        lnb.train(tiny_recipe(**{"name": "c", "model.arch": "mlp", "normalize.method": "minmax"}), out=out,
                  progress=False),
    ]


def test_ensemble_is_the_average_of_member_probabilities_scored_by_sklearn(members):
    result = lnb.ensemble([m.dir for m in members])
    data = members[0].data
    probs = np.mean([torch.softmax(m.model.eval()(m.data.inputs("test")), 1).detach().numpy() for m in members], 0)
    y = data.labels("test").numpy()
    assert np.allclose(result.evaluation.probs, probs, atol=1e-5)
    assert result.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, probs.argmax(1)))
    assert result.metrics["f1_macro"] == pytest.approx(skm.f1_score(y, probs.argmax(1), average="macro"))
    assert result.metrics["loss"] == pytest.approx(skm.log_loss(y, probs, labels=list(range(10))), rel=1e-4)
    for m, row in zip(members, result.members):  # members are scored on the same samples as during training
        assert row["metrics"]["accuracy"] == pytest.approx(m.metrics["accuracy"])
    assert [r["model"] for r in result.rows()] == [m.name for m in members] + ["ensemble"]
    assert "ensemble" in result.table() and result.to_dict()["split"] == "test"
    assert result.evaluation.confusion.sum() == len(y)


def test_weights_and_predictions_on_raw_inputs(members, tmp_path):
    only_first = lnb.ensemble(members[:2], weights=[1, 0])
    assert only_first.metrics["accuracy"] == pytest.approx(members[0].metrics["accuracy"])
    result = lnb.ensemble(members, weights=[2, 1, 1])
    assert [m["weight"] for m in result.members] == pytest.approx([0.5, 0.25, 0.25])
    raw = members[0].data.raw("test", slice(0, 10))
    assert result.predict(raw) == [members[0].predictor().classes[i] for i in result.evaluation.y_pred[:10]]
    exported = lnb.export(result, "onnx", tmp_path / "ensemble.onnx")
    assert exported.max_abs_diff < 1e-4


def test_ensemble_rejects_what_cannot_be_averaged(members, tmp_path):
    with pytest.raises(lnb.UsageError, match="runs: 1 — allowed: two or more runs"):
        lnb.ensemble(members[:1])
    with pytest.raises(lnb.UsageError, match="weights: .* allowed: 2 numbers ≥ 0"):
        lnb.ensemble(members[:2], weights=[1])
    other = lnb.train(tiny_recipe(**{"data.seed": 7, "train.epochs": 1}), out=None, progress=False)
    with pytest.raises(lnb.UsageError, match=r"was trained on other data than 'a-[\d-]+' \(data.seed: 7 vs 0\)"):
        lnb.ensemble([members[0], other])
