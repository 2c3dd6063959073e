import torch

import lepton_nb as lnb
from lepton_nb.data import SubwordVocab, build_data, tokens_from_summary, tokens_summary
from lepton_nb.datasets import reviews_path

TEXTS = ["the movie was watchable and enjoyable", "an enjoyable film", "the acting was unbearable",
         "watching it was a pleasure", "unwatchable and boring"] * 4


def test_subword_pieces_cover_unseen_words_and_round_trip_through_json():
    kind = "bpe"
    vocab = SubwordVocab.fit(TEXTS, kind, max_size=120)
    ids = vocab.encode(["unenjoyable watching"], 8)
    assert ids.shape == (1, 8)
    nonpad = ids[0][ids[0] != 0]
    assert len(nonpad) >= 2 and int((nonpad == 1).sum()) == 0  # pieces, no unknown
    assert vocab.words[0] == "[PAD]" and vocab.words[1] == "[UNK]"
    again = tokens_from_summary(tokens_summary(vocab))
    assert isinstance(again, SubwordVocab)
    assert torch.equal(again.encode(["unenjoyable watching"], 8), ids)
    assert SubwordVocab.fit(TEXTS, kind, max_size=120).words == vocab.words  # deterministic


def recipe(**changes) -> lnb.Recipe:
    return lnb.Recipe.preset("sentiment").updated({"data.path": str(reviews_path()), **changes})


def test_subword_data_is_fitted_on_the_train_split_only():
    data = build_data(recipe(**{"data.tokenizer": "bpe", "data.max_vocab": 300}))
    fitted = SubwordVocab.fit(data.train.texts, "bpe", 300)
    assert data.vocab.words == fitted.words
    assert data.spec().vocab_size == len(data.vocab)


def test_long_sentences_are_cut_with_a_note_and_empty_ones_dropped(tmp_path):
    path = tmp_path / "s.tsv"
    rows = [f"good film number {i} with many many words\t1" for i in range(20)]
    rows += [f"bad film {i}\t0" for i in range(20)] + ["...\t0", "  ;; \t1"]
    path.write_text("\n".join(rows) + "\n")
    data = build_data(recipe(**{"data.path": str(path), "data.max_len": 5}))
    steps = {s.name: s.removed for s in data.cleaning.steps}
    assert steps["empty sentences"] == 2
    assert any("truncated to data.max_len 5" in n for n in data.cleaning.notes)
    assert "note: truncated" in str(data.cleaning)
    assert data.cleaning.to_dict()["notes"]
