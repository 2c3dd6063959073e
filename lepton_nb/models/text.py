"""Text architectures over word ids: a CNN over n-gram windows and a bidirectional LSTM."""

from __future__ import annotations

import torch
from torch import nn

from ..data.bundle import DataSpec
from ..errors import ModelError
from ..spec import ARCHS_FOR_KIND, ModelSection
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


def build_text(spec: DataSpec, cfg: ModelSection) -> Classifier:
    if spec.kind != "text" or spec.vocab_size < 2:
        raise ModelError(f"model.arch: '{cfg.arch}' needs text (token ids and a vocabulary); this data is "
                         f"{spec.kind}; allowed: {', '.join(ARCHS_FOR_KIND[spec.kind])}")
    if cfg.arch == "text_cnn":
        body: nn.Module = TextCNN(spec.vocab_size, cfg.embed_dim, cfg.width)
    else:
        body = TextBiLSTM(spec.vocab_size, cfg.embed_dim, cfg.hidden)
    head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(body.out_features, spec.num_classes))
    return Classifier(body, head, cfg.arch)
