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
from .deploy import ExportResult, export, load_run
from .distributed import LaunchCommand, launch_command
from .ensemble import EnsembleResult, ensemble
from .errors import DataError, LeptonError, ModelError, UsageError
from .evaluate import CVResult, EvalResult, cross_validate, evaluate
from .models import build_model, count_parameters
from .optimize import OptimizeResult, optimize, prune, quantize
from .predict import Predictor
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
    "EnsembleResult",
    "EvalResult",
    "ExportResult",
    "History",
    "LRFindResult",
    "LaunchCommand",
    "LeptonError",
    "ModelError",
    "OptimizeResult",
    "Predictor",
    "Recipe",
    "RecipeError",
    "Run",
    "Studio",
    "Trainer",
    "UsageError",
    "build_data",
    "build_model",
    "count_parameters",
    "datasets",
    "exercises",
    "plotting",
    "cross_validate",
    "ensemble",
    "evaluate",
    "explain",
    "export",
    "launch_command",
    "load_run",
    "lr_find",
    "optimize",
    "prune",
    "quantize",
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
