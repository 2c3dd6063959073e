import numpy as np
import pytest
import torch
from sklearn import metrics as skm

import lepton_nb as lnb
from lepton_nb.evaluation import compute_metrics, evaluate_logits
from tests.conftest import tiny_recipe


def test_metrics_match_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 4, 300)
    logits = torch.tensor(rng.normal(size=(300, 4)), dtype=torch.float32)
    logits[np.arange(300), y] += 1.5
    res = evaluate_logits(logits, y, list("abcd"), ["accuracy", "balanced_accuracy", "f1_macro", "roc_auc"])
    pred = logits.argmax(1).numpy()
    assert res.metrics["accuracy"] == pytest.approx(skm.accuracy_score(y, pred))
    assert res.metrics["balanced_accuracy"] == pytest.approx(skm.balanced_accuracy_score(y, pred))
    assert res.metrics["f1_macro"] == pytest.approx(skm.f1_score(y, pred, average="macro"))
    probs = torch.softmax(logits, 1).numpy()
    assert res.metrics["roc_auc"] == pytest.approx(skm.roc_auc_score(y, probs, multi_class="ovr"))
    assert np.array_equal(res.confusion, skm.confusion_matrix(y, pred))
    assert res.loss == pytest.approx(float(torch.nn.functional.cross_entropy(logits, torch.tensor(y))), rel=1e-5)
    assert [r["support"] for r in res.per_class] == np.bincount(y, minlength=4).tolist()


def test_binary_roc_auc_and_missing_class():
    y = np.array([0, 1, 1, 0])
    probs = np.array([[0.9, 0.1], [0.2, 0.8], [0.4, 0.6], [0.3, 0.7]])
    assert compute_metrics(y, probs.argmax(1), probs, ["roc_auc"])["roc_auc"] == pytest.approx(0.75)
    assert np.isnan(compute_metrics(np.zeros(3, int), np.zeros(3, int), np.ones((3, 2)) / 2, ["roc_auc"])["roc_auc"])


def test_top_losses_misclassified_and_cells():
    logits = torch.tensor([[5.0, 0.0], [0.0, 5.0], [4.0, 0.0], [0.0, 1.0]])
    res = evaluate_logits(logits, np.array([0, 0, 1, 1]), ["a", "b"])
    assert res.misclassified().tolist() == [1, 2]
    assert res.cell(0, 1).tolist() == [1] and res.misclassified(true=1).tolist() == [2]
    assert res.top_losses(2).tolist() == [1, 2]


def test_evaluate_a_run_and_cross_validate():
    run = lnb.train(tiny_recipe(), progress=False, out=None)
    ev = lnb.evaluate(run)
    assert ev.metrics == run.evaluation.metrics
    cv = lnb.cross_validate(tiny_recipe(train__epochs=1), folds=3)
    assert len(cv.folds) == 3 and cv.status == "completed"
    assert set(cv.mean) == {"loss", *run.recipe.evaluate.metrics}
    assert 0 <= cv.std["accuracy"] < 0.2
    assert "± " in cv.table()


def test_cross_validation_stops_when_asked():
    control = lnb.Control()
    control.stop()
    cv = lnb.cross_validate(tiny_recipe(), folds=3, control=control)
    assert cv.status == "stopped" and cv.folds == []
