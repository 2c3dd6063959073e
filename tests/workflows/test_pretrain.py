"""Masked-token pretraining: train-split text only, BERT's masking, live curves, transfer into a classifier."""

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data import build_data
from lepton_nb.data.pretrain import IGNORE, MaskTokens, pretrain_data, read_unlabeled
from lepton_nb.data.text import Vocab
from lepton_nb.training.events import EpochEnd
from tests.conftest import write_sentiment
from tests.workflows.test_transformers import text_recipe


def test_default_corpus_is_the_train_split_without_val_or_test_sentences(tmp_path):
    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv", n=120))
    corpus = pretrain_data(recipe)
    labelled = build_data(recipe)
    assert sorted(corpus.train.texts) == sorted(labelled.train.texts)
    held_out = set(labelled.val.texts) | set(labelled.test.texts)
    assert held_out and not held_out & set(corpus.train.texts)
    assert len(corpus.val) == 0 and len(corpus.test) == 0


def test_text_file_or_folder_corpus(tmp_path):
    (tmp_path / "corpus").mkdir()
    (tmp_path / "corpus" / "a.txt").write_text("first line here\n\n!!\nsecond line\tignored label\n")
    (tmp_path / "corpus" / "b.txt").write_text("third line\n")
    assert read_unlabeled(tmp_path / "corpus") == ["first line here", "!!", "second line", "third line"]
    with pytest.raises(lnb.DataError, match="pretrain.path"):
        read_unlabeled(tmp_path / "missing")


def test_masking_follows_bert_proportions_and_is_reproducible():
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(98)])
    ids = torch.randint(2, 100, (400, 50), generator=torch.Generator().manual_seed(0))
    ids[:, 40:] = 0
    mask = MaskTokens(vocab, 0.15, seed=1)
    masked, targets = mask(None, ids, torch.zeros(400), step=3)
    chosen = targets != IGNORE
    assert abs(chosen.sum().item() / (ids != 0).sum().item() - 0.15) < 0.01
    assert not chosen[:, 40:].any()  # padding is never a target
    assert torch.equal(targets[chosen], ids[chosen])
    share_mask = (masked[chosen] == 100).float().mean().item()
    share_kept = (masked[chosen] == ids[chosen]).float().mean().item()
    assert abs(share_mask - 0.8) < 0.03 and 0.08 < share_kept < 0.14
    assert torch.equal(masked[~chosen], ids[~chosen])
    again, _ = mask(None, ids, torch.zeros(400), step=3)
    other, _ = mask(None, ids, torch.zeros(400), step=4)
    assert torch.equal(again, masked) and not torch.equal(other, masked)


def test_pretraining_learns_and_transfers_into_a_classifier(tmp_path):
    path = write_sentiment(tmp_path / "r.tsv")
    recipe = text_recipe(path, **{"pretrain.epochs": 6, "pretrain.lr": 1e-2, "pretrain.batch_size": 32,
                                  "data.tokenizer": "bpe"})
    seen = []
    pre = lnb.pretrain(recipe, out=tmp_path / "runs", progress=False,
                       on_trainer=lambda t: t.events.subscribe(seen.append, EpochEnd))
    assert pre.status == "completed" and len(seen) == 6
    losses = [e["train_loss"] for e in pre.history.epochs]
    assert losses[-1] < losses[0] * 0.8  # the masked tokens become predictable
    assert 0.0 < pre.history.epochs[-1]["train_accuracy"] <= 1.0
    assert pre.dir.name.startswith("digits-cnn-pretrain-") and (pre.dir / "checkpoints" / "last.pt").is_file()
    fine = lnb.train(recipe.updated({"model.init_from": str(pre.dir), "train.epochs": 3, "train.lr": 1e-2,
                                      "train.batch_size": 16}), out=tmp_path / "runs",
                     progress=False)
    init = fine.extras["init"]
    assert init["loaded"] == ["features"] and init["fresh"] == ["head"]
    assert fine.data.vocab.words == pre.data.vocab.words  # the pretrained tokenizer is reused
    assert fine.metrics["accuracy"] > 0.8


def test_pretraining_refuses_other_models():
    with pytest.raises(lnb.RecipeError, match="model.arch: .text_bow. .*allowed: text_transformer"):
        lnb.pretrain(lnb.Recipe.preset("sentiment"), out=None)


def test_unknown_tokens_are_never_masked_targets():
    vocab = Vocab(["<pad>", "<unk>"] + [f"w{i}" for i in range(98)])
    ids = torch.randint(1, 100, (400, 50), generator=torch.Generator().manual_seed(0))
    ids[ids < 20] = 1  # a small vocabulary: about a fifth of the tokens are <unk>
    ids[:, 40:] = 0
    masked, targets = MaskTokens(vocab, 0.15, seed=1)(None, ids, torch.zeros(400), step=0)  # a batch step
    chosen = targets != IGNORE
    assert not (targets == 1).any()
    words = (ids > 1).sum().item()
    assert abs(chosen.sum().item() / words - 0.15) < 0.01  # 15 % of the known words, as before
    assert torch.equal(masked[ids == 1], ids[ids == 1])  # unknown tokens stay in the input as they are
