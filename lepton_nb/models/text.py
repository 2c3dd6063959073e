"""Text architectures over token ids: a CNN over n-gram windows, a bidirectional LSTM, a bag of n-grams."""

from __future__ import annotations

import torch
from torch import nn

from ..data.bundle import DataSpec
from ..errors import ModelError
from ..recipe import ARCHS_FOR_KIND, ModelSection
from .builders import builds
from .classifier import Classifier
from .layers import Dropout


class TextCNN(nn.Module):
    """Embedding → parallel 1-D convolutions (kernel 3, 4, 5) → max over time."""

    def __init__(self, vocab_size: int, embed_dim: int, width: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.convs = nn.ModuleList(nn.Conv1d(embed_dim, width, k, padding=k // 2) for k in (3, 4, 5))
        self.relus = nn.ModuleList(nn.ReLU() for _ in self.convs)
        self.out_features = 3 * width

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        e = self.embedding(ids).transpose(1, 2)
        return torch.cat([relu(conv(e)).amax(dim=2) for conv, relu in zip(self.convs, self.relus)], dim=1)


class TextBiLSTM(nn.Module):
    """Embedding → bidirectional LSTM over the unpadded words → last states of both directions."""

    def __init__(self, vocab_size: int, embed_dim: int, hidden: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.lstm = nn.LSTM(embed_dim, hidden, batch_first=True, bidirectional=True)
        self.out_features = 2 * hidden

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        lengths = (ids != 0).sum(1).clamp_min(1).cpu()
        packed = nn.utils.rnn.pack_padded_sequence(self.embedding(ids), lengths, batch_first=True,
                                                   enforce_sorted=False)
        _, (h, _) = self.lstm(packed)
        return torch.cat([h[-2], h[-1]], dim=1)


def check_text(spec: DataSpec, cfg: ModelSection) -> None:
    """A text model needs token ids and a vocabulary (a ModelError naming what fits the data otherwise)."""
    if spec.vocab_size < 2:
        raise ModelError(f"model.arch: '{cfg.arch}' needs text (token ids and a vocabulary); this data is "
                         f"{spec.kind}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")


def _text_classifier(body: nn.Module, spec: DataSpec, cfg: ModelSection) -> Classifier:
    head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(body.out_features, spec.num_classes))
    return Classifier(body, head, cfg.arch)


@builds("text_cnn")
def build_text_cnn(spec: DataSpec, cfg: ModelSection) -> Classifier:
    check_text(spec, cfg)
    return _text_classifier(TextCNN(spec.vocab_size, cfg.embed_dim, cfg.width), spec, cfg)


@builds("text_bilstm")
def build_text_bilstm(spec: DataSpec, cfg: ModelSection) -> Classifier:
    check_text(spec, cfg)
    return _text_classifier(TextBiLSTM(spec.vocab_size, cfg.embed_dim, cfg.hidden), spec, cfg)


class TextBagOfNgrams(nn.Module):
    """fastText-style (Joulin et al. 2017): the mean of word and hashed-bigram embeddings.

    Works as ``nn.EmbeddingBag(mode="mean")`` over uni+bigrams but keeps the word embedding a plain
    ``nn.Embedding`` [B, L, D], so word attributions (Layer Integrated Gradients) and ONNX export work as
    for the other text models. Bigram (a, b) goes to bucket ``(a * 1000003 + b) % buckets``; bigram
    vectors start at zero and grow only where a bigram helps.
    """

    def __init__(self, vocab_size: int, embed_dim: int, buckets: int):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim, padding_idx=0)
        self.buckets = buckets
        self.bigrams = nn.Embedding(buckets + 1, embed_dim, padding_idx=0) if buckets else None
        if self.bigrams is not None:  # most bigrams occur once: random vectors would drown the words in noise
            self.bigrams.zero_init = True
        self.out_features = embed_dim

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        keep = (ids != 0).unsqueeze(-1)
        total = (self.embedding(ids) * keep).sum(1)
        count = keep.sum(1)
        if self.bigrams is not None and ids.shape[1] > 1:
            a, b = ids[:, :-1], ids[:, 1:]
            both = (a != 0) & (b != 0)
            bucket = torch.where(both, (a * 1000003 + b) % self.buckets + 1, torch.zeros_like(a))
            total = total + self.bigrams(bucket).sum(1)  # padding bucket 0 embeds to zeros
            count = count + both.sum(1, keepdim=True)
        return total / count.clamp_min(1).to(total.dtype)


@builds("text_bow")
def build_bow(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """``text_bow``: mean of uni+bigram embeddings → dropout → Linear (a fast, strong baseline)."""
    check_text(spec, cfg)
    body = TextBagOfNgrams(spec.vocab_size, cfg.embed_dim, cfg.buckets)
    return Classifier(body, nn.Sequential(Dropout(cfg.dropout), nn.Linear(cfg.embed_dim, spec.num_classes)), cfg.arch)
