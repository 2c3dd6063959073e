"""Unlabeled text for self-supervised pretraining, and BERT's masking of it (Devlin et al. 2019).

The default corpus is the sentences of the recipe's *train* split (same cleaning and seeded split as
training), without their labels: validation and test sentences are never seen, so a classifier
fine-tuned from the pretrained encoder is still measured on text it never read. ``pretrain.path``
names other text instead (a .txt file, one sentence a line, or a folder of them).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from ..errors import DataError
from ..recipe import Recipe
from .build import load_clean_pool
from .bundle import DataBundle, Split
from .cleaning import CleaningReport
from .normalize import NormStats
from .split import split_indices
from .steps import BatchStep
from .subword import SubwordVocab, fit_tokens
from .text import PAD, UNK, Vocab, tokenize

IGNORE = -100  # target of positions nothing is predicted at (nn.CrossEntropyLoss's ignore_index)


def read_unlabeled(path: str | Path) -> list[str]:
    """Sentences of a .txt file (one a line; text after a TAB, e.g. a label, is dropped) or of a folder's .txt files."""
    p = Path(path).expanduser()
    files = sorted(p.rglob("*.txt")) if p.is_dir() else [p] if p.is_file() else []
    if not files:
        raise DataError("pretrain.path", str(path), "no such text file, or a folder without .txt files; allowed: "
                        "a .txt file with one sentence a line, a folder of them, or '' for the train split")
    out: list[str] = []
    for f in files:
        try:
            lines = f.read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            raise DataError("pretrain.path", str(f), f"cannot be read as UTF-8 text ({exc})") from None
        out += [line.split("\t", 1)[0].strip() for line in lines]
    return [s for s in out if tokenize(s)]


def train_sentences(recipe: Recipe) -> list[str]:
    """The train split's sentences exactly as `build_data` splits them (no labels, no val/test sentence)."""
    pool, _ = load_clean_pool(recipe)
    cfg = recipe.data
    train_idx, _, _ = split_indices(pool.labels, cfg.val_fraction, cfg.test_fraction, cfg.seed,
                                    has_fixed_test=pool.fixed_test is not None)
    return [str(pool.inputs[i]) for i in train_idx]


def pretrain_data(recipe: Recipe) -> DataBundle:
    """The pretraining corpus as token ids (train split only; targets are drawn per batch by `MaskTokens`).

    The tokenizer is fitted on the corpus (with ``pretrain.path``: the corpus and the train split's
    sentences, so the classifier's words are covered too) and becomes the fine-tuned model's tokenizer.
    """
    cfg = recipe.data
    own = train_sentences(recipe)
    corpus = read_unlabeled(recipe.pretrain.path) if recipe.pretrain.path else own
    vocab = fit_tokens(corpus + own if recipe.pretrain.path else corpus, cfg.tokenizer, cfg.max_vocab, cfg.min_freq)
    return corpus_bundle(corpus, vocab, cfg.max_len, cfg.source,
                         recipe.pretrain.path or "the train split (labels unused)")


def corpus_bundle(corpus: list[str], vocab: Vocab | SubwordVocab, max_len: int, source: str = "text",
                  origin: str = "") -> DataBundle:
    """Sentences as a bundle of token ids with only a train split (targets come from `MaskTokens`)."""
    x = vocab.encode(corpus, max_len)
    empty = torch.zeros((0, max_len), dtype=torch.long)
    splits = {"train": Split(x, x.clone(), list(corpus)), "val": Split(empty, empty.clone(), []),
              "test": Split(empty, empty.clone(), [])}
    report = CleaningReport(len(corpus), len(corpus))
    report.notes.append(f"pretraining text: {len(corpus)} sentences" + (f" from {origin}" if origin else ""))
    return DataBundle("text", source, splits, ["token"], [max_len], NormStats.identity(), report, vocab=vocab)


class MaskTokens(BatchStep):
    """BERT's masking, drawn anew for every batch: ``mask_prob`` of the tokens become targets; of those
    80 % are replaced by ``[MASK]``, 10 % by a random token and 10 % stay as they are. Padding and unknown
    tokens (``<unk>``/``[UNK]``, id 1) are never targets: with a small word vocabulary they are common, and a
    model rewarded for predicting "unknown" learns nothing about words.

    A `BatchStep`: ``(model, ids, _, step) -> (masked ids, targets)``; the draw depends only on (seed, step),
    so a resumed run masks exactly as the uninterrupted one would.
    """

    def __init__(self, vocab: Vocab | SubwordVocab, mask_prob: float, seed: int):
        self.vocab_size = len(vocab)
        self.mask_id = len(vocab)  # the transformer's extra embedding row
        self.mask_prob = mask_prob
        self.seed = seed

    def __call__(self, model: object, ids: torch.Tensor, _labels: torch.Tensor,
                 step: int) -> tuple[torch.Tensor, torch.Tensor]:
        g = torch.Generator().manual_seed(self.seed * 1_000_003 + step)
        cpu = ids.cpu()
        real = (cpu != PAD) & (cpu != UNK)  # nothing to learn from predicting "unknown word"
        chosen = (torch.rand(cpu.shape, generator=g) < self.mask_prob) & real
        if not chosen.any() and real.any():  # every batch predicts at least one token
            chosen.view(-1)[int(np.flatnonzero(real.view(-1).numpy())[0])] = True
        targets = torch.where(chosen, cpu, torch.full_like(cpu, IGNORE))
        roll = torch.rand(cpu.shape, generator=g)
        masked = cpu.clone()
        masked[chosen & (roll < 0.8)] = self.mask_id
        swap = chosen & (roll >= 0.8) & (roll < 0.9)
        masked[swap] = torch.randint(2, max(3, self.vocab_size), (int(swap.sum()),), generator=g)
        return masked.to(ids.device), targets.to(ids.device)
