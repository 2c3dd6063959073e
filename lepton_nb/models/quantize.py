"""Weight quantization of a model on the maintained API (torchao): used to compress a run and to rebuild a
quantized checkpoint's architecture when a run folder is loaded.

``qint8`` (the name the recipe, CLI and file names keep): torchao's ``Int8WeightOnlyConfig`` — the weights of
every ``nn.Linear`` stored as int8 with one scale per output channel, the matrix product computed in float32.
torch's own ``torch.ao.quantization.quantize_dynamic`` is deprecated (torchao is its successor), and torchao's
int8 *dynamic-activation* path (``Int8DynamicActivationInt8WeightConfig``) runs through ``torch._int_mm``, which
on CPU took 20x the float time in eager mode (14x compiled, after 100 s of compiling): weight-only int8 keeps
the 4x smaller weights at about the float latency (`benchmarks/bench_quantize.py`).
``float16``: the same Linear weights stored in float16 and cast to float32 when used (a parametrization).
Convolutions, embeddings and LSTMs stay float32.
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..errors import UsageError
from .adapters import merge_lora
from .layers import plain_dropout

QUANT_DTYPES = {"qint8": "int8 weights (torchao Int8WeightOnlyConfig)",
                "float16": "float16 weights, computed in float32"}


def torchao() -> Any:
    """``torchao``, imported quietly (its import logs a notice about torch.compile's Enum handling) — which also
    registers its tensor types with ``torch.load(weights_only=True)``."""
    pytree = logging.getLogger("torch.utils._pytree")
    level = pytree.level
    pytree.setLevel(logging.ERROR)
    try:
        import torchao as module
    finally:
        pytree.setLevel(level)
    return module


class Float16WeightLinear(nn.Linear):
    """An ``nn.Linear`` whose weight is stored in float16 (half the bytes) and cast to float32 when used: what
    ``float16`` quantization makes of each Linear layer (torchao has no float16 weight-only config)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.linear(x, self.weight.float(), self.bias)


def quantize_model(model: nn.Module, dtype: str = "qint8") -> nn.Module:
    """A quantized copy of ``model`` (its Linear layers; eval mode, CPU); ``model`` itself is left as it is."""
    if dtype not in QUANT_DTYPES:
        raise UsageError("dtype", dtype, f"allowed: {', '.join(QUANT_DTYPES)}")
    copied = plain_dropout(merge_lora(copy.deepcopy(model), inplace=True)).cpu().eval()
    QUANTIZERS[dtype]([m for m in copied.modules() if type(m) is nn.Linear], copied)
    return copied


def _float16_weights(linears: list[nn.Module], model: nn.Module) -> None:
    for layer in linears:
        layer.__class__ = Float16WeightLinear
        layer.weight = nn.Parameter(layer.weight.detach().half(), requires_grad=False)


def _int8_weights(linears: list[nn.Module], model: nn.Module) -> None:
    torchao()
    from torchao.quantization import Int8WeightOnlyConfig, quantize_

    if linears:
        quantize_(model, Int8WeightOnlyConfig(), filter_fn=lambda m, _: type(m) is nn.Linear)


# QUANT_DTYPES' names → what each does to the Linear layers of a model (in place)
QUANTIZERS: dict[str, Callable[[list[nn.Module], nn.Module], None]] = {"qint8": _int8_weights,
                                                                      "float16": _float16_weights}


def quantization(model: nn.Module) -> str | None:
    """Which quantization ``model`` holds: ``qint8`` (torchao int8 weights), ``float16`` or None."""
    found = None
    for module in model.modules():
        weight = module.__dict__.get("_parameters", {}).get("weight")
        if weight is not None and type(weight).__module__.startswith("torchao"):
            return "qint8"
        if isinstance(module, Float16WeightLinear):
            found = "float16"
    return found


def is_quantized(model: nn.Module) -> bool:
    """Whether ``model`` holds quantized weights (torchao tensors, or float16-stored ones)."""
    return quantization(model) is not None


def quantized_layers(model: nn.Module) -> int:
    """How many Linear layers hold quantized weights."""
    return sum(1 for m in model.modules() if isinstance(m, nn.Linear) and is_quantized(m))
