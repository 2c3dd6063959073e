"""A subword tokenizer (byte-pair encoding from the ``tokenizers`` library), trained on the train split only.

Sentences are first split into words by the same regex as the word vocabulary (`text.tokenize`), then
each word into pieces: a word never seen in training still gets known pieces ("unwatchable" →
"un", "watchable</w>"; ``</w>`` ends a word) instead of one ``<unk>``. Id 0 pads and id 1 is the
unknown piece, as in `Vocab`, so augmentation, models and export treat both alike. The tokenizer is
saved as its JSON in the run folder's ``data.json`` and rebuilt from it for prediction.

BPE rather than WordPiece: the library's WordPiece training picks a different vocabulary from process
to process (hash-map order breaks ties); its BPE training picks the same pieces every time, and ids
are renumbered in sorted order so that they match too.
"""

from __future__ import annotations

from typing import Any

import torch

from ..errors import DataError
from .text import PAD, Vocab, tokenize

SPECIALS = ["[PAD]", "[UNK]"]
KINDS = ("bpe",)


class SubwordVocab:
    """A trained `tokenizers.Tokenizer` with the `Vocab` interface: ``encode``, ``decode``, ``len``, ``words``."""

    def __init__(self, tokenizer: Any, kind: str):
        self.tokenizer = tokenizer
        self.kind = kind
        size = tokenizer.get_vocab_size()
        self.words = [tokenizer.id_to_token(i) or "" for i in range(size)]

    @classmethod
    def fit(cls, texts: list[str], kind: str = "bpe", max_size: int = 8000, min_freq: int = 1) -> SubwordVocab:
        """Learn up to ``max_size`` pieces from ``texts`` (the train split's sentences)."""
        import json

        from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers

        if kind not in KINDS:
            raise DataError("data.tokenizer", kind, f"allowed: word, {', '.join(KINDS)}")
        tok = Tokenizer(models.BPE(unk_token="[UNK]", end_of_word_suffix="</w>"))
        tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        trainer = trainers.BpeTrainer(vocab_size=max_size, min_frequency=min_freq, special_tokens=SPECIALS,
                                      end_of_word_suffix="</w>", show_progress=False)
        tok.train_from_iterator([" ".join(tokenize(t)) for t in texts], trainer)
        # ids in a fixed order (the trainer numbers pieces in hash-map order, which changes between processes)
        pieces = sorted(p for p in tok.get_vocab() if p not in SPECIALS)
        vocab = {p: i for i, p in enumerate(SPECIALS + pieces)}
        merges = [tuple(m.split(" ")) if isinstance(m, str) else tuple(m)
                  for m in json.loads(tok.to_str())["model"]["merges"]]
        out = Tokenizer(models.BPE(vocab=vocab, merges=merges, unk_token="[UNK]", end_of_word_suffix="</w>"))
        out.decoder = decoders.BPEDecoder(suffix="</w>")
        out.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
        return cls(out, kind)

    def __len__(self) -> int:
        return len(self.words)

    def pieces(self, texts: list[str]) -> list[list[int]]:
        """Piece ids of each sentence, uncut."""
        return [e.ids for e in self.tokenizer.encode_batch([" ".join(tokenize(t)) for t in texts])]

    def lengths(self, texts: list[str]) -> list[int]:
        return [len(ids) for ids in self.pieces(texts)]

    def encode(self, texts: list[str], max_len: int) -> torch.Tensor:
        """Piece ids [N, max_len], padded with 0 at the end, cut after max_len pieces."""
        out = torch.zeros((len(texts), max_len), dtype=torch.long)
        for i, ids in enumerate(self.pieces(texts)):
            if ids:
                out[i, : min(len(ids), max_len)] = torch.tensor(ids[:max_len], dtype=torch.long)
        return out

    def decode(self, ids: torch.Tensor) -> list[str]:
        """Pieces of one id sequence, padding dropped (``</w>`` marks a piece ending a word)."""
        return [self.words[i] for i in ids.tolist() if i != PAD]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "tokenizer": self.tokenizer.to_str()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> SubwordVocab:
        from tokenizers import Tokenizer

        return cls(Tokenizer.from_str(d["tokenizer"]), d["kind"])


def fit_tokens(texts: list[str], kind: str, max_size: int, min_freq: int) -> Vocab | SubwordVocab:
    """The recipe's tokenizer (``data.tokenizer``) fitted on ``texts``."""
    if kind == "word":
        return Vocab.fit(texts, min_freq, max_size)
    return SubwordVocab.fit(texts, kind, max_size, min_freq)


def tokens_from_summary(info: dict[str, Any]) -> Vocab | SubwordVocab | None:
    """The tokenizer recorded in a run folder's ``data.json`` (None for non-text runs)."""
    if info.get("tokenizer"):
        return SubwordVocab.from_dict(info["tokenizer"])
    return Vocab(list(info["vocab"])) if info.get("vocab") else None


def tokens_summary(vocab: Vocab | SubwordVocab) -> dict[str, Any]:
    """What ``data.json`` records: the word list for words (``vocab``), plus the tokenizer JSON for subwords."""
    out: dict[str, Any] = {"vocab": list(vocab.words)}
    if isinstance(vocab, SubwordVocab):
        out["tokenizer"] = vocab.to_dict()
    return out
