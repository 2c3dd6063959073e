"""Attention of a text transformer: the weights of every layer and head, and attention rollout.

Attention weights show where each token looked in one layer; they are not attributions (Jain & Wallace
2019), so they are shown beside the Layer Integrated Gradients word highlights, not instead of them.
*Attention rollout* (Abnar & Zuidema 2020) follows attention through the layers: each layer's
head-averaged weights plus the identity (the residual path), renormalised, multiplied layer by layer;
the row of the sentence vector ([CLS], or the mean of the token rows for mean pooling) says how much
each input token flows into what the classifier reads.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import UsageError
from ..models.transformer import TextTransformer


@dataclass
class AttentionView:
    """One sentence: its tokens, weights [layers, heads, n, n] over them, and the rollout per token."""

    sentence: str
    tokens: list[str]
    weights: np.ndarray
    rollout: np.ndarray
    prediction: str = ""

    @property
    def layers(self) -> int:
        return int(self.weights.shape[0])

    @property
    def heads(self) -> int:
        return int(self.weights.shape[1])

    def head(self, layer: int, head: int) -> np.ndarray:
        """[n, n] weights of one head (row: the token looking; column: the token looked at)."""
        if not (0 <= layer < self.layers and 0 <= head < self.heads):
            raise UsageError("layer/head", (layer, head), f"allowed: layer 0..{self.layers - 1}, head "
                                                          f"0..{self.heads - 1}")
        return self.weights[layer, head]


def encoder_of(model: nn.Module) -> TextTransformer:
    """The transformer encoder inside a classifier (or inside an `InferenceModel` around one)."""
    for m in model.modules():
        if isinstance(m, TextTransformer):
            return m
    raise UsageError("model", type(model).__name__, "has no transformer encoder; attention maps need arch "
                                                    "text_transformer (for other models use explain())")


@torch.no_grad()
def attention_weights(model: nn.Module, ids: torch.Tensor) -> torch.Tensor:
    """Weights of every layer: [batch, layers, heads, L', L'] (L' = L + 1 with a [CLS] token first)."""
    encoder = encoder_of(model)
    modules = encoder.attention_modules()
    was_training = model.training
    model.eval()
    for m in modules:
        m.keep_weights = True
    try:
        model(ids.to(next(model.parameters()).device))
        return torch.stack([m.last_weights for m in modules], dim=1).float().cpu()
    finally:
        for m in modules:
            m.keep_weights, m.last_weights = False, None
        model.train(was_training)


def rollout(weights: np.ndarray, pooled_rows: Sequence[int] | None = None) -> np.ndarray:
    """Attention rollout of one sentence's weights [layers, heads, n, n]: each input's share of the
    sentence vector (rows ``pooled_rows`` averaged; default row 0, the [CLS] token)."""
    n = weights.shape[-1]
    flow = np.eye(n)
    for layer in weights:
        a = layer.mean(0) + np.eye(n)
        a = a / a.sum(-1, keepdims=True)
        flow = a @ flow
    rows = list(pooled_rows) if pooled_rows is not None else [0]
    return flow[rows].mean(0)


def has_attention(model: nn.Module) -> bool:
    """The model has a transformer encoder whose attention can be read."""
    return any(isinstance(m, TextTransformer) for m in model.modules())


def token_rollout(model: nn.Module, ids: torch.Tensor) -> np.ndarray:
    """Attention rollout of each input token into the sentence vector, per sentence: [batch, L] (0 at padding;
    a [CLS] token's own share is left out, so a sentence's shares sum to at most 1)."""
    weights = attention_weights(model, ids)
    has_cls = encoder_of(model).cls is not None
    out = np.zeros(tuple(ids.shape), dtype=np.float32)
    for i in range(len(ids)):
        n = int((ids[i] != 0).sum())
        keep = n + (1 if has_cls else 0)
        flow = rollout(weights[i, :, :, :keep, :keep].numpy(), None if has_cls else range(keep))
        out[i, :n] = flow[1:] if has_cls else flow
    return out


def attention_views(model: nn.Module, preprocessor: Any, sentences: Sequence[str],
                    classes: Sequence[str] = ()) -> list[AttentionView]:
    """Attention of ``model`` (a text_transformer classifier) on raw sentences, trimmed to their tokens."""
    if isinstance(sentences, str):
        sentences = [sentences]
    ids = preprocessor(list(sentences))
    encoder = encoder_of(model)
    weights = attention_weights(model, ids)
    with torch.no_grad():
        preds = model.eval()(ids.to(next(model.parameters()).device)).argmax(1).tolist()
    has_cls = encoder.cls is not None
    views = []
    for i, sentence in enumerate(sentences):
        n_tok = int((ids[i] != 0).sum())
        tokens = preprocessor.vocab.decode(ids[i][:n_tok])
        keep = n_tok + (1 if has_cls else 0)
        w = weights[i, :, :, :keep, :keep].numpy()
        flow = rollout(w, None if has_cls else range(keep))
        labels = (["[CLS]"] if has_cls else []) + tokens
        views.append(AttentionView(sentence, labels, w, flow, classes[preds[i]] if classes else str(preds[i])))
    return views


def explain_attention(source: Any, sentences: Sequence[str]) -> list[AttentionView]:
    """Attention maps and rollout of a run (a `Run`, e.g. from ``load_run``, or a `Predictor`) on raw sentences."""
    predictor = source.predictor() if callable(getattr(source, "predictor", None)) else source
    if not hasattr(predictor, "preprocessor") or not hasattr(predictor, "model"):
        raise UsageError("run", type(source).__name__, "allowed: a Run (lnb.train, lnb.load_run) or a Predictor")
    model = predictor.model.model if hasattr(predictor.model, "model") else predictor.model
    return attention_views(model, predictor.preprocessor, sentences, predictor.classes)
