"""Dynamic int8/float16 quantization of a model: used to compress a run and to rebuild a quantized
checkpoint's architecture when a run folder is loaded."""

from __future__ import annotations

import copy
import warnings

import torch
from torch import nn

from ..errors import UsageError
from .adapters import merge_lora
from .layers import plain_dropout

QUANT_DTYPES = {"qint8": torch.qint8, "float16": torch.float16}


def quantize_model(model: nn.Module, dtype: str = "qint8") -> nn.Module:
    """A dynamically quantized copy of ``model`` (Linear and LSTM layers; eval mode, CPU)."""
    if dtype not in QUANT_DTYPES:
        raise UsageError("dtype", dtype, f"allowed: {', '.join(QUANT_DTYPES)}")
    from torch.ao.quantization import quantize_dynamic

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)  # torch.ao.quantization announces its move to torchao
        warnings.filterwarnings("ignore", message=".*quantiz.*deprecated.*")
        copied = plain_dropout(merge_lora(copy.deepcopy(model), inplace=True)).cpu().eval()
        return quantize_dynamic(copied, {nn.Linear, nn.LSTM}, dtype=QUANT_DTYPES[dtype])
