"""Layers whose randomness comes from a run's own generator, never the process-wide one.

Two trainings in one kernel (two studios, a run beside an LR finder) would otherwise draw their
dropout masks from the same global generator and change each other's weights.
"""

from __future__ import annotations

import torch
from torch import nn


class Dropout(nn.Dropout):
    """`nn.Dropout` that draws its mask from ``generator`` when one is set (see `seed_dropout`).

    Without a generator it is plain dropout; in eval mode it is the identity, so export and
    quantization see an ordinary ``nn.Dropout``.
    """

    generator: torch.Generator | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0 or self.generator is None:
            return super().forward(x)
        if self.p >= 1.0:
            return torch.zeros_like(x)
        keep = torch.empty_like(x).bernoulli_(1.0 - self.p, generator=self.generator)
        return x * keep / (1.0 - self.p)


def seed_dropout(model: nn.Module, seed: int, device: torch.device | str = "cpu") -> torch.Generator:
    """Give every `Dropout` of ``model`` one generator seeded with ``seed``; returns it (its state is
    checkpointed so that a resumed run draws the same masks)."""
    generator = torch.Generator(device=device)
    generator.manual_seed(seed)
    for module in model.modules():
        if isinstance(module, Dropout):
            module.generator = generator
    return generator


def plain_dropout(model: nn.Module) -> nn.Module:
    """Turn every `Dropout` of ``model`` (in place) into a plain ``nn.Dropout``: what TorchScript, ONNX
    and quantization expect of an exported or compressed copy (dropout does nothing in eval mode)."""
    for module in model.modules():
        if isinstance(module, Dropout):
            module.__class__ = nn.Dropout
            module.__dict__.pop("generator", None)
    return model
