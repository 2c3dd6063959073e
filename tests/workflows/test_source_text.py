"""A fine-tuned text model is never scored on sentences its initial weights or tokenizer have read, unseen:
cross-validation pretrains the encoder again per fold, refuses a classifier source that read held-out
sentences, and a single run says how many test sentences its encoder read."""

import importlib

import pytest

import lepton_nb as lnb
from lepton_nb.artifacts.transfer import transfer_row
from lepton_nb.data.text import tokenize
from lepton_nb.workflows.source_text import source_text
from tests.conftest import write_sentiment
from tests.workflows.test_transformers import text_recipe

cv_module = importlib.import_module("lepton_nb.workflows.kfold")


@pytest.fixture(scope="module")
def pretrained(tmp_path_factory):
    """A small corpus whose sentences carry a word of their own, and an encoder pretrained on its train split."""
    root = tmp_path_factory.mktemp("leak")
    path = write_sentiment(root / "r.tsv", n=120)
    lines = path.read_text().splitlines()
    path.write_text("\n".join(f"{s} w{i}x\t{y}" for i, (s, y) in enumerate(line.split("\t") for line in lines)) + "\n")
    recipe = text_recipe(path, **{"pretrain.epochs": 1, "train.epochs": 1, "data.limit": 0})
    pre = lnb.pretrain(recipe, out=root / "runs", progress=False)
    return recipe, pre, root


def test_cross_validation_pretrains_the_encoder_again_on_each_folds_training_part(pretrained, monkeypatch):
    recipe, pre, _ = pretrained
    fine = recipe.updated({"model.init_from": str(pre.dir)})
    source = source_text(fine)
    assert source is not None and source.pretrain
    seen = []
    fit = cv_module.fit_fold

    def spy(recipe, data, *args):
        seen.append(data)
        return fit(recipe, data, *args)

    monkeypatch.setattr(cv_module, "fit_fold", spy)
    result = lnb.cross_validate(fine, folds=2)
    assert len(result.folds) == 2 and len(seen) == 2
    for fold in seen:
        held_out = fold.test.texts
        assert source.seen(held_out) > 0.5 * len(held_out)  # the run's own encoder read most of them
        own_words = {w for s in held_out for w in tokenize(s) if w.startswith("w") and w.endswith("x")}
        assert own_words and not own_words & set(fold.vocab.words)  # this fold's tokenizer never read them


def test_cross_validation_refuses_a_classifier_that_learned_held_out_sentences(pretrained):
    recipe, _, root = pretrained
    classifier = lnb.train(recipe.updated({"data.seed": 3}), out=root / "runs", progress=False)
    with pytest.raises(lnb.UsageError, match=r"model.init_from: .*trained, with labels, on \d+ of the \d+ held-out"):
        lnb.cross_validate(recipe.updated({"model.init_from": str(classifier.dir)}), folds=2)


def test_a_run_on_another_split_says_how_many_test_sentences_its_encoder_read(pretrained):
    recipe, pre, root = pretrained
    same = lnb.train(recipe.updated({"model.init_from": str(pre.dir)}), out=None, progress=False)
    assert "held_out_seen" not in same.history.meta  # the pretraining run's split: no test sentence read
    other = lnb.train(recipe.updated({"model.init_from": str(pre.dir), "data.seed": 5}), out=root / "runs",
                      progress=False)
    seen = other.history.meta["held_out_seen"]
    assert 0 < seen["seen"] <= seen["of"] == len(other.data.test)
    assert "test score is optimistic" in other.extras["init"]["note"]
    assert f"read {seen['seen']} of these {seen['of']} test sentences" in transfer_row(other)["accuracy"]
    assert lnb.load_run(other.dir).history.meta["held_out_seen"] == seen
