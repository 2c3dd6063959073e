"""Transformer and bag-of-n-grams runs end to end: train, load the folder, predict raw sentences, export."""

import numpy as np
import pytest

import lepton_nb as lnb
from tests.conftest import tiny_recipe, write_sentiment


def text_recipe(path, **changes) -> lnb.Recipe:
    base = {"data.source": "text_tsv", "data.path": str(path), "model.arch": "text_transformer",
            "model.embed_dim": 16, "model.heads": 2, "model.depth": 1, "model.hidden": 32, "model.dropout": 0.0,
            "augment.ops": [], "data.max_len": 12, "train.epochs": 4, "train.lr": 3e-3,
            "interpret.enabled": False}
    base.update(changes)
    return tiny_recipe(**base)


@pytest.mark.parametrize("arch,tokenizer,lr", [("text_transformer", "bpe", 3e-3), ("text_bow", "word", 3e-2)])
def test_text_run_loads_predicts_and_exports(tmp_path, arch, tokenizer, lr):
    path = write_sentiment(tmp_path / "reviews.tsv")
    run = lnb.train(text_recipe(path, **{"model.arch": arch, "data.tokenizer": tokenizer, "train.lr": lr}),
                    out=tmp_path / "runs", progress=False)
    assert run.metrics["accuracy"] > 0.8
    loaded = lnb.load_run(run.dir)
    sentences = run.data.test.texts
    assert loaded.predict(sentences) == run.predict(sentences)
    assert loaded.predict("a wonderfully superb film") == run.predict(["a wonderfully superb film"])
    for fmt in ("onnx", "torchscript"):
        exported = lnb.export(loaded, fmt, tmp_path / f"m-{arch}-{fmt}")
        assert exported.max_abs_diff < 1e-4 and exported.agreement == 1.0


def test_bpe_gives_unseen_words_pieces_where_words_give_unknown(tmp_path):
    path = write_sentiment(tmp_path / "reviews.tsv")
    words = lnb.build_data(text_recipe(path))
    pieces = lnb.build_data(text_recipe(path, **{"data.tokenizer": "bpe"}))
    unseen = ["superbly wonderfulness"]
    assert set(np.unique(words.vocab.encode(unseen, 6)[0]).tolist()) <= {0, 1}
    ids = pieces.vocab.encode(unseen, 6)[0]
    assert int((ids > 1).sum()) >= 2
