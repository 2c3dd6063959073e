"""A small Transformer encoder over token ids, written out so that every part is visible and adaptable.

Pre-norm blocks (Xiong et al. 2020) with multi-head self-attention built from separate ``q``/``k``/``v``
``nn.Linear`` projections: LoRA can target each one (``model.adapter.targets``), and every block keeps
the attention weights of its last forward pass per head (``block.attn.last_weights``) for the attention
maps of `lepton_nb.interpret.attention`. Padding (id 0) is masked out of attention and pooling.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from ..data.bundle import DataSpec
from ..errors import ModelError
from ..recipe import ModelSection
from .builders import builds
from .classifier import Classifier
from .layers import Dropout
from .text import check_text


class SelfAttention(nn.Module):
    """Multi-head scaled dot-product self-attention with separate q, k, v and output projections."""

    def __init__(self, dim: int, heads: int, dropout: float):
        super().__init__()
        if dim % heads:
            raise ModelError("model.heads", heads, f"model.embed_dim ({dim}) must be a multiple of it")
        self.heads, self.head_dim = heads, dim // heads
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.out = nn.Linear(dim, dim)
        self.drop = Dropout(dropout)
        self.keep_weights = False
        self.last_weights: torch.Tensor | None = None  # [B, heads, L, L] when keep_weights

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        b, n, d = x.shape
        q, k, v = (proj(x).view(b, n, self.heads, self.head_dim).transpose(1, 2) for proj in (self.q, self.k, self.v))
        scores = q @ k.transpose(-2, -1) / math.sqrt(self.head_dim)
        scores = scores.masked_fill(pad[:, None, None, :], float("-inf"))
        weights = torch.softmax(scores, dim=-1)
        if self.keep_weights:
            self.last_weights = weights.detach()
        mixed = (self.drop(weights) @ v).transpose(1, 2).reshape(b, n, d)
        return self.out(mixed)


class EncoderBlock(nn.Module):
    """x + attention(norm(x)), then x + feed-forward(norm(x))."""

    def __init__(self, dim: int, heads: int, ff: int, dropout: float):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = SelfAttention(dim, heads, dropout)
        self.drop1 = Dropout(dropout)
        self.norm2 = nn.LayerNorm(dim)
        self.ff1 = nn.Linear(dim, ff)
        self.act = nn.GELU()
        self.ff2 = nn.Linear(ff, dim)
        self.drop2 = Dropout(dropout)

    def forward(self, x: torch.Tensor, pad: torch.Tensor) -> torch.Tensor:
        x = x + self.drop1(self.attn(self.norm1(x), pad))
        return x + self.drop2(self.ff2(self.act(self.ff1(self.norm2(x)))))


def sinusoids(length: int, dim: int) -> torch.Tensor:
    """The fixed position encoding of Vaswani et al. (2017): [length, dim]."""
    pos = torch.arange(length, dtype=torch.float32)[:, None]
    freq = torch.exp(torch.arange(0, dim, 2, dtype=torch.float32) * (-math.log(10000.0) / dim))
    table = torch.zeros(length, dim)
    table[:, 0::2] = torch.sin(pos * freq)
    table[:, 1::2] = torch.cos(pos * freq[: dim // 2])
    return table


# model.pooling → whether a learned [CLS] token leads the sequence (its output is the sentence vector; else the mean)
CLS_TOKEN = {"cls": True, "mean": False}
# model.positions → a learned position table, or fixed sinusoids
LEARNED_POSITIONS = {"learned": True, "sinusoidal": False}


class TextTransformer(nn.Module):
    """Token embedding + positions → ``depth`` pre-norm encoder blocks → [CLS] or mean pooling.

    The embedding has one row more than the vocabulary: the last id is ``[MASK]``, used by masked-token
    pretraining (`MaskedLM`) so that a pretrained encoder and its classifier share every weight shape.
    """

    def __init__(self, vocab_size: int, max_len: int, dim: int, heads: int, depth: int, ff: int, dropout: float,
                 positions: str = "sinusoidal", pooling: str = "cls"):
        super().__init__()
        self.vocab_size, self.mask_id, self.pooling = vocab_size, vocab_size, pooling
        self.embedding = nn.Embedding(vocab_size + 1, dim, padding_idx=0)
        n_pos = max_len + CLS_TOKEN[pooling]
        if LEARNED_POSITIONS[positions]:
            self.positions = nn.Parameter(torch.zeros(n_pos, dim))
        else:
            self.register_buffer("positions", sinusoids(n_pos, dim), persistent=False)
        self.cls = nn.Parameter(torch.zeros(1, 1, dim)) if CLS_TOKEN[pooling] else None
        self.drop = Dropout(dropout)
        self.blocks = nn.ModuleList(EncoderBlock(dim, heads, ff, dropout) for _ in range(depth))
        self.norm = nn.LayerNorm(dim)
        self.out_features = dim

    def hidden(self, ids: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """States of every position [B, L(+1 with [CLS] first), dim] and the padding mask [B, L(+1)]."""
        pad = ids == 0
        x = self.embedding(ids)
        if self.cls is not None:
            x = torch.cat([self.cls.expand(ids.shape[0], -1, -1), x], dim=1)
            pad = torch.cat([torch.zeros_like(pad[:, :1]), pad], dim=1)
        x = self.drop(x + self.positions[: x.shape[1]])
        if self.cls is None:  # an all-padding sentence would attend to nothing: let it see its first slot
            pad = pad.clone()
            pad[:, 0] = False
        for block in self.blocks:
            x = block(x, pad)
        return self.norm(x), pad

    def encode(self, ids: torch.Tensor) -> torch.Tensor:
        """One state per input token [B, L] (without [CLS]): what masked-token prediction reads."""
        h, _ = self.hidden(ids)
        return h[:, 1:] if self.cls is not None else h

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        h, pad = self.hidden(ids)
        if self.cls is not None:
            return h[:, 0]
        keep = (~pad).unsqueeze(-1).to(h.dtype)
        return (h * keep).sum(1) / keep.sum(1).clamp_min(1.0)

    def attention_modules(self) -> list[SelfAttention]:
        return [block.attn for block in self.blocks]


class MaskedLMHead(nn.Module):
    """States → dense, GELU, LayerNorm → logits over the vocabulary (BERT's prediction head)."""

    def __init__(self, dim: int, vocab_size: int):
        super().__init__()
        self.dense = nn.Linear(dim, dim)
        self.act = nn.GELU()
        self.norm = nn.LayerNorm(dim)
        self.decoder = nn.Linear(dim, vocab_size)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        return self.decoder(self.norm(self.act(self.dense(h))))


class MaskedLM(Classifier):
    """An encoder with a token-prediction head: ids [B, L] → logits [B, vocab, L].

    Logits come class-first so that ``nn.CrossEntropyLoss`` with targets [B, L] (-100 where nothing is
    predicted) scores it as is. Its ``features`` are exactly a classifier's, so ``model.init_from`` on a
    pretraining run loads the encoder and starts the classification head fresh.
    """

    def forward(self, ids: torch.Tensor) -> torch.Tensor:
        return self.head(self.features.encode(ids)).transpose(1, 2)


def transformer_body(spec: DataSpec, cfg: ModelSection) -> TextTransformer:
    check_text(spec, cfg)
    return TextTransformer(spec.vocab_size, spec.input_shape[0], cfg.embed_dim, cfg.heads, cfg.depth, cfg.hidden,
                           cfg.dropout, cfg.positions, cfg.pooling)


@builds("text_transformer")
def build_transformer(spec: DataSpec, cfg: ModelSection) -> Classifier:
    """``text_transformer``: encoder → dropout → Linear to the classes."""
    body = transformer_body(spec, cfg)
    head = nn.Sequential(Dropout(cfg.dropout), nn.Linear(body.out_features, spec.num_classes))
    return Classifier(body, head, cfg.arch)


def build_masked_lm(spec: DataSpec, cfg: ModelSection) -> MaskedLM:
    """The encoder of ``text_transformer`` with a masked-token head over ``spec.vocab_size`` tokens."""
    body = transformer_body(spec, cfg)
    return MaskedLM(body, MaskedLMHead(cfg.embed_dim, spec.vocab_size), cfg.arch)


def explain_sizes(cfg: ModelSection, spec: DataSpec) -> list[tuple[str, int]]:
    """Where a ``text_transformer``'s parameters are, part by part (label, count): for the Model tab."""
    d, f, v, n = cfg.embed_dim, cfg.hidden, spec.vocab_size, spec.input_shape[0]
    block = 4 * (d * d + d) + (d * f + f) + (f * d + d) + 4 * d
    parts = [(f"token embedding: ({v} tokens + [MASK]) × {d}", (v + 1) * d)]
    cls = CLS_TOKEN[cfg.pooling]
    if LEARNED_POSITIONS[cfg.positions]:
        parts.append((f"learned positions: {n + cls} × {d}", (n + cls) * d))
    if cls:
        parts.append(("[CLS] vector", d))
    parts.append((f"{cfg.depth} blocks × (q, k, v, out: 4 × {d}×{d}; feed-forward {d}→{f}→{d}; 2 LayerNorms), "
                  f"{cfg.heads} heads of {d // max(1, cfg.heads)} dims", cfg.depth * block))
    parts.append(("final LayerNorm", 2 * d))
    parts.append((f"head: {d} → {spec.num_classes} classes", d * spec.num_classes + spec.num_classes))
    return parts
