"""Interpretation with Captum: a method registry, `explain`, attribution probes during training, and the
attention maps and rollout of text transformers (`explain_attention`).

The method registry is plain data in `lepton_nb.recipe.methods` (the recipe validates against it);
`explain` and the probes load captum and the trainer on first use, so importing stays cheap.
"""

from typing import Any

from ..recipe.methods import BASELINES, METHODS, Method, MethodParam, default_method, methods_for_kind

_LAZY = {
    "Explainable": "attribution", "Explanation": "attribution", "InterpretError": "attribution",
    "attribution_copy": "attribution", "check_method": "attribution", "explain": "attribution",
    "fitting_methods": "attribution",
    "AttentionView": "attention", "attention_views": "attention", "explain_attention": "attention",
    "rollout": "attention",
    "AttributionProbes": "probes", "probe_indices": "probes", "save_timeline": "probes",
}

__all__ = ["BASELINES", "METHODS", "Method", "MethodParam", "default_method", "methods_for_kind", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
