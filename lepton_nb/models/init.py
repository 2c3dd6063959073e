"""Initial weights drawn from a seeded `torch.Generator` instead of the process-wide RNG.

PyTorch's layers initialise themselves from the global generator, which other threads of a
kernel (a second training, an LR finder, a view) also draw from. `init_weights` redraws every
parameter from the run's own generator with PyTorch's default distributions for the layer types
lepton_nb builds, so a seeded model is the same whatever else runs. (torch offers no per-module
generator for ``reset_parameters``, hence this short table.)
"""

from __future__ import annotations

import math

import torch
from torch import nn

_CONV_LINEAR = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d)
_NORMS = (nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d, nn.LayerNorm, nn.GroupNorm)


@torch.no_grad()
def init_weights(model: nn.Module, generator: torch.Generator) -> nn.Module:
    """Redraw all parameters of ``model`` from ``generator``; returns the model."""
    for module in model.modules():
        own = list(module.parameters(recurse=False))
        if not own:
            continue
        if getattr(module, "zero_init", False):  # e.g. hashed bigram embeddings: they start neutral
            for p in own:
                p.zero_()
        elif isinstance(module, _CONV_LINEAR):
            nn.init.kaiming_uniform_(module.weight, a=math.sqrt(5), generator=generator)
            if module.bias is not None:
                fan_in = module.weight[0].numel()
                bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0.0
                nn.init.uniform_(module.bias, -bound, bound, generator=generator)
        elif isinstance(module, (nn.Embedding, nn.EmbeddingBag)):
            nn.init.normal_(module.weight, generator=generator)
            if getattr(module, "padding_idx", None) is not None:
                module.weight[module.padding_idx].zero_()
        elif isinstance(module, nn.LSTM):
            bound = 1 / math.sqrt(module.hidden_size)
            for p in own:
                nn.init.uniform_(p, -bound, bound, generator=generator)
        elif isinstance(module, _NORMS):
            module.reset_parameters()  # ones and zeros: nothing random
        else:  # a module with parameters of its own (a learned position table, a [CLS] vector)
            for p in own:
                nn.init.normal_(p, std=0.02, generator=generator)
    return model
