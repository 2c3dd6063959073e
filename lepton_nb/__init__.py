"""lepton_nb: a notebook studio for training and understanding PyTorch models.

``import lepton_nb as lnb``; ``lnb.Studio()`` in a notebook, ``lnb.train(recipe)`` anywhere.
The core (recipe, data, models, train, evaluate) imports no UI library; ``Studio`` loads the
widgets only when first used.
"""

from __future__ import annotations

import sys
from typing import Any

from . import datasets, exercises, plotting
from .data import DataBundle, build_data
from .errors import DataError, LeptonError, ModelError
from .evaluate import CVResult, EvalResult, cross_validate, evaluate
from .models import build_model, count_parameters
from .recipe import Recipe, RecipeError
from .run import Run, train
from .train.control import Control
from .train.history import History
from .train.lr_find import LRFindResult, lr_find
from .train.trainer import Trainer

__version__ = "0.1.0"

if "ipykernel" in sys.modules:  # in a notebook, training is near: pay one-off imports in the background
    from .warmup import warm_up_in_background

    warm_up_in_background()

__all__ = [
    "CVResult",
    "Control",
    "DataBundle",
    "DataError",
    "EvalResult",
    "History",
    "LRFindResult",
    "LeptonError",
    "ModelError",
    "Recipe",
    "RecipeError",
    "Run",
    "Studio",
    "Trainer",
    "build_data",
    "build_model",
    "count_parameters",
    "datasets",
    "exercises",
    "plotting",
    "cross_validate",
    "evaluate",
    "explain",
    "lr_find",
    "train",
]

_LAZY = {
    "Studio": ("lepton_nb.ui.studio", "Studio"),
    "explain": ("lepton_nb.interpret.attribution", "explain"),  # loads captum on first use
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'lepton_nb' has no attribute {name!r}")
