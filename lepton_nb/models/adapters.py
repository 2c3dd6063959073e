"""LoRA adapters (Hu et al. 2021) on our own layers through ``peft``, seeded, and merged back for export.

``add_lora`` wraps the chosen ``nn.Linear``/``nn.Conv1d``/``nn.Conv2d``/``nn.Embedding`` layers with peft's
LoRA layers (``inject_adapter_in_model``: the model stays a `Classifier`, only the wrapped layers change).
One factor is drawn from the run's generator and the other starts at zero (for an embedding, as peft does,
``A`` is zero and ``B`` normal), so a freshly adapted model computes exactly what it computed before; dropout
on the adapters draws from the run's generator too.
``merge_lora`` folds ``B·A·alpha/r`` into each base weight and removes the wrappers: what inference,
export and compression see is a plain model of the recipe's architecture.
"""

from __future__ import annotations

import copy
import math

import torch
from torch import nn

from ..errors import Problem, RecipeError
from ..recipe import AdapterSection, ModelSection
from .layers import Dropout

ADAPTABLE = (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Embedding)
TRANSFORMER_TARGETS = ("q", "v")  # as in the LoRA paper: the query and value projections


def adaptable_names(model: nn.Module) -> list[str]:
    """Dotted names of the layers LoRA can wrap (Linear, Conv1d, Conv2d, Embedding)."""
    return [name for name, m in model.named_modules() if isinstance(m, ADAPTABLE) and name]


def default_targets(model: nn.Module) -> list[str]:
    """The attention projections of a transformer; otherwise every adaptable layer of the features."""
    names = adaptable_names(model)
    attention = [n for n in names if n.rsplit(".", 1)[-1] in TRANSFORMER_TARGETS and ".attn." in n]
    return attention or [n for n in names if n.startswith("features.") and not _is_embedding(model, n)]


def _is_embedding(model: nn.Module, name: str) -> bool:
    return isinstance(model.get_submodule(name), nn.Embedding)


def resolve_targets(model: nn.Module, targets: list[str]) -> list[str]:
    """Full names of the layers ``targets`` name (a full name or its ending); RecipeError for one matching none."""
    names = adaptable_names(model)
    if not targets:
        return default_targets(model)
    chosen: list[str] = []
    for t in targets:
        hits = [n for n in names if n == t or n.endswith("." + t)]
        if not hits:
            short = sorted({".".join(n.split(".")[-2:]) if n.split(".")[-1].isdigit() else n.rsplit(".", 1)[-1]
                            for n in names})
            raise RecipeError([Problem("model.adapter.targets", t, f"matches no Linear/Conv/Embedding layer; allowed: "
                                                                   f"{', '.join(short)} or a full name such as "
                                                                   f"{', '.join(names[:4])}")])
        chosen += [h for h in hits if h not in chosen]
    return chosen


def _smaller_side(layer: nn.Module) -> int:
    if isinstance(layer, nn.Linear):
        return min(layer.in_features, layer.out_features)
    if isinstance(layer, nn.Embedding):
        return min(layer.num_embeddings, layer.embedding_dim)
    assert isinstance(layer, nn.modules.conv._ConvNd), type(layer)  # resolve_targets adapts Linear, Embedding, Conv
    fan_in = layer.in_channels * math.prod(layer.kernel_size) // layer.groups
    return min(fan_in, layer.out_channels)


def add_lora(model: nn.Module, cfg: AdapterSection, generator: torch.Generator) -> list[str]:
    """Wrap the target layers of ``model`` (in place) with LoRA; returns their names."""
    from peft import LoraConfig, inject_adapter_in_model

    names = resolve_targets(model, list(cfg.targets))
    for name in names:
        side = _smaller_side(model.get_submodule(name))
        if cfg.r > side:
            raise RecipeError([Problem("model.adapter.r", cfg.r, f"larger than layer {name} ({side} on its smaller "
                                                                 f"side); allowed: 1 to {side}")])
    config = LoraConfig(r=cfg.r, lora_alpha=cfg.alpha, lora_dropout=0.0, target_modules=names, bias="none")
    with torch.random.fork_rng(devices=[]):  # peft draws A from the global generator: redrawn below
        inject_adapter_in_model(config, model)
    for layer in lora_layers(model):
        if "default" in layer.lora_embedding_A:  # an embedding: a lookup into A (zeros), then B (normal)
            nn.init.zeros_(layer.lora_embedding_A["default"])
            nn.init.normal_(layer.lora_embedding_B["default"], generator=generator)
            continue
        nn.init.kaiming_uniform_(layer.lora_A["default"].weight, a=math.sqrt(5), generator=generator)
        nn.init.zeros_(layer.lora_B["default"].weight)
        if cfg.dropout > 0:
            drop = Dropout(cfg.dropout)
            drop.trains_when_frozen = True  # active while training even inside frozen features (`Classifier.train`)
            layer.lora_dropout["default"] = drop
    return names


def lora_layers(model: nn.Module) -> list[nn.Module]:
    from peft.tuners.lora import LoraLayer

    return [m for m in model.modules() if isinstance(m, LoraLayer)]


def has_adapters(model: nn.Module) -> bool:
    return any(".lora_" in name for name, _ in model.named_parameters())


def is_adapter_key(key: str) -> bool:
    return ".lora_" in key


def base_key(key: str) -> str:
    """The name a wrapped layer's weight has in a model without adapters."""
    return key.replace(".base_layer.", ".")


def set_trainable(model: nn.Module, freeze: str) -> None:
    """Which parameters of an adapted model learn: all (none), adapters and head (features), adapters only."""
    for name, p in model.named_parameters():
        if is_adapter_key(name) or freeze == "none":
            p.requires_grad_(True)
        else:
            p.requires_grad_(freeze == "features" and name.startswith("head."))


def apply_adapter(model: nn.Module, cfg: ModelSection, generator: torch.Generator) -> nn.Module:
    """The recipe's adapter (``model.adapter``) and the trainable parameters it implies; returns the model."""
    if cfg.adapter.kind == "lora":
        add_lora(model, cfg.adapter, generator)
        set_trainable(model, cfg.freeze)
    return model


@torch.no_grad()
def merge_lora(model: nn.Module, inplace: bool = False) -> nn.Module:
    """``model`` with every LoRA update folded into its base layer and the wrappers removed."""
    if not has_adapters(model):
        return model
    out = model if inplace else copy.deepcopy(model)
    for name, module in list(out.named_modules()):
        if hasattr(module, "lora_A") and hasattr(module, "get_base_layer"):
            module.merge()
            parent_name, _, child = name.rpartition(".")
            parent = out.get_submodule(parent_name) if parent_name else out
            setattr(parent, child, module.get_base_layer())
    for p in out.parameters():
        p.requires_grad_(True)
    return out
