"""Which parts of a model learn: ``model.freeze`` applied to a built model, adapters always excepted.

One function for every place that needs the model Start trains: fine-tuning (`workflows.finetune`), the
Model tab's trainable/total count before Start, and anything else that probes that model.
"""

from __future__ import annotations

from torch import nn

from ..errors import ModelError
from .adapters import is_adapter_key

FROZEN_PARTS = {"none": (), "features": ("features",), "all_but_adapters": ("features", "head")}


def apply_freeze(model: nn.Module, freeze: str) -> list[str]:
    """Stop the parts ``freeze`` names from learning (in place; LoRA adapters keep learning) and keep frozen
    features in eval mode (see `Classifier.train`); returns the frozen parts."""
    parts = FROZEN_PARTS[freeze]
    if not parts:
        return []
    if not hasattr(model, "features") or not hasattr(model, "head"):
        raise ModelError(f"model.freeze: {freeze!r} — {type(model).__name__} has no `features`/`head` parts; "
                         "allowed: none for this model, or a lepton_nb architecture")
    for name, p in model.named_parameters():
        if name.split(".", 1)[0] in parts and not is_adapter_key(name):
            p.requires_grad_(False)
    model.frozen_features = True
    model.train(model.training)  # puts the features in eval mode right away
    return list(parts)
