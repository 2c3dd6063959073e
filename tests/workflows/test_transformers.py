"""Transformer and bag-of-n-grams runs end to end: train, load the folder, predict raw sentences, export."""

import numpy as np
import pytest
import torch

import lepton_nb as lnb
import lepton_nb.models
from tests.conftest import tiny_recipe, write_sentiment


def text_recipe(path, **changes) -> lnb.Recipe:
    base = {"data.source": "text_tsv", "data.path": str(path), "model.arch": "text_transformer",
            "model.embed_dim": 16, "model.heads": 2, "model.depth": 1, "model.hidden": 32, "model.dropout": 0.0,
            "model.pooling": "cls", "train.weight_decay": 1e-4,
            "augment.ops": [], "data.max_len": 12, "train.epochs": 4, "train.lr": 3e-3,
            "interpret.enabled": False}
    base.update(changes)
    return tiny_recipe(**base)


@pytest.mark.parametrize("arch,tokenizer,lr,epochs", [("text_transformer", "bpe", 3e-3, 4),
                                                     ("text_bow", "word", 3e-2, 8)])
def test_text_run_loads_predicts_and_exports(tmp_path, arch, tokenizer, lr, epochs):
    path = write_sentiment(tmp_path / "reviews.tsv")
    run = lnb.train(text_recipe(path, **{"model.arch": arch, "data.tokenizer": tokenizer, "train.lr": lr,
                                         "train.epochs": epochs}), out=tmp_path / "runs", progress=False)
    assert run.metrics["accuracy"] > 0.8
    loaded = lnb.load_run(run.dir)
    sentences = run.data.test.texts
    assert loaded.predict(sentences) == run.predict(sentences)
    assert loaded.predict("a wonderfully superb film") == run.predict(["a wonderfully superb film"])
    if arch == "text_transformer":
        view = lnb.explain_attention(loaded, ["a wonderfully superb film"])[0]
        assert view.tokens[0] == "[CLS]" and view.weights.shape[:2] == (1, 2)
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


def test_lora_fine_tune_keeps_the_source_weights_loads_predicts_and_exports(tmp_path):
    path = write_sentiment(tmp_path / "reviews.tsv")
    source = lnb.train(text_recipe(path, **{"train.epochs": 2}), out=tmp_path / "runs", progress=False)
    recipe = text_recipe(path, **{"model.init_from": str(source.dir), "model.freeze": "features",
                                  "model.adapter": {"kind": "lora", "r": 4, "alpha": 8, "targets": ["q", "v", "ff1"]},
                                  "train.epochs": 3, "train.lr": 1e-2, "name": "lora"})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    assert "LoRA r=4" in run.extras["init"]["note"]
    src = source.model.state_dict()
    own = run.model.state_dict()
    q = "features.blocks.0.attn.q"
    assert torch.equal(own[f"{q}.base_layer.weight"], src[f"{q}.weight"])  # the base stays the source's
    assert torch.equal(own["features.embedding.weight"], src["features.embedding.weight"])
    assert float(own[f"{q}.lora_B.default.weight"].abs().sum()) > 0  # the adapter learned
    loaded = lnb.load_run(run.dir)
    assert not lnb.models.has_adapters(loaded.model)  # merged on loading
    sentences = run.data.test.texts
    assert loaded.predict(sentences) == run.predict(sentences)
    exported = lnb.export(run, "onnx", tmp_path / "lora.onnx")
    assert exported.max_abs_diff < 1e-4 and exported.agreement == 1.0
