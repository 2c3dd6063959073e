"""The model every builder returns: ``head(features(x))``, plus parameter counts and a layer summary.

Every model has ``features`` (the body) and ``head`` (the classifier), so fine-tuning can freeze
one and retrain the other, and interpretation can find the last conv layer or the embedding.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from .layers import Dropout


class Classifier(nn.Module):
    """``head(features(x))``; ``arch`` names the builder that made it.

    With ``frozen_features`` set (see `models.freezing.apply_freeze`), the features stay in eval mode even while
    the model trains: frozen layers keep their batch-norm statistics and use no dropout. Layers marked
    ``trains_when_frozen`` (the dropout of LoRA adapters, which learn inside frozen features) follow the
    model's mode.
    """

    def __init__(self, features: nn.Module, head: nn.Module, arch: str):
        super().__init__()
        self.features = features
        self.head = head
        self.arch = arch
        self.frozen_features = False

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def train(self, mode: bool = True) -> Classifier:
        super().train(mode)
        if self.frozen_features:
            self.features.eval()
            for module in self.features.modules():
                if getattr(module, "trains_when_frozen", False):
                    module.train(mode)
        return self


def dense_stack(n_in: int, hidden: int, depth: int, dropout: float, batch_norm: bool) -> tuple[nn.Sequential, int]:
    layers: list[nn.Module] = []
    for _ in range(depth):
        layers.append(nn.Linear(n_in, hidden, bias=not batch_norm))
        if batch_norm:
            layers.append(nn.BatchNorm1d(hidden))
        layers += [nn.ReLU(inplace=True), Dropout(dropout)]
        n_in = hidden
    return nn.Sequential(*layers), n_in


def count_parameters(model: nn.Module, trainable_only: bool = False) -> int:
    return sum(p.numel() for p in model.parameters() if p.requires_grad or not trainable_only)


@dataclass
class LayerRow:
    name: str
    kind: str
    output_shape: list[int]
    params: int


def summarize(model: nn.Module, input_shape: list[int], dtype: torch.dtype = torch.float32) -> list[LayerRow]:
    """One row per leaf layer: name, type, output shape for a batch of 2, parameter count; plus one row per
    container holding parameters of its own, so the rows add up to `count_parameters`."""
    rows: list[LayerRow] = []
    hooks = []
    for name, module in model.named_modules():
        if len(list(module.children())) == 0 and name:
            def hook(mod, _inp, out, name=name):
                shape = list(out.shape) if isinstance(out, torch.Tensor) else []
                rows.append(LayerRow(name, type(mod).__name__, shape,
                                     sum(p.numel() for p in mod.parameters(recurse=False))))
            hooks.append(module.register_forward_hook(hook))
    device = next(model.parameters()).device
    sample = (torch.zeros((2, *input_shape), dtype=torch.long, device=device) if dtype == torch.long
              else torch.zeros((2, *input_shape), device=device))
    was_training = model.training
    model.eval()
    try:
        with torch.no_grad():
            model(sample)
    finally:
        model.train(was_training)
        for h in hooks:
            h.remove()
    for name, module in model.named_modules():  # parameters held by a container (a [CLS] vector, positions)
        own = sum(p.numel() for p in module.parameters(recurse=False))
        if own and len(list(module.children())) > 0:
            rows.append(LayerRow(f"{name}.(own)" if name else "(own)", "Parameter", [], own))
    return rows
