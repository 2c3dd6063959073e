"""Word tokenizer and vocabulary for short texts; the vocabulary is fitted on the train split only."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import torch

PAD, UNK = 0, 1
_TOKEN = re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[!?]")


def tokenize(text: str) -> list[str]:
    """Lower-case words (keeping contractions) and the sentiment-bearing ! and ?."""
    return _TOKEN.findall(text.lower())


@dataclass
class Vocab:
    """Index 0 pads, 1 stands for unknown words, then words by falling train frequency."""

    words: list[str]

    @classmethod
    def fit(cls, texts: list[str], min_freq: int = 1, max_size: int = 20000) -> Vocab:
        counts = Counter(tok for t in texts for tok in tokenize(t))
        ranked = sorted((w for w, c in counts.items() if c >= min_freq), key=lambda w: (-counts[w], w))
        return cls(["<pad>", "<unk>"] + ranked[: max(0, max_size - 2)])

    def __post_init__(self) -> None:
        self.index = {w: i for i, w in enumerate(self.words)}

    def __len__(self) -> int:
        return len(self.words)

    def lengths(self, texts: list[str]) -> list[int]:
        """Tokens of each sentence before cutting."""
        return [len(tokenize(t)) for t in texts]

    def encode(self, texts: list[str], max_len: int) -> torch.Tensor:
        """Token ids [N, max_len], padded with 0 at the end, cut after max_len words."""
        out = torch.zeros((len(texts), max_len), dtype=torch.long)
        for i, t in enumerate(texts):
            ids = [self.index.get(tok, UNK) for tok in tokenize(t)][:max_len]
            if ids:
                out[i, : len(ids)] = torch.tensor(ids, dtype=torch.long)
        return out

    def decode(self, ids: torch.Tensor) -> list[str]:
        """Words of one id sequence, padding dropped."""
        return [self.words[i] for i in ids.tolist() if i != PAD]
