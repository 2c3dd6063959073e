"""lepton_nb: a notebook studio for training and understanding PyTorch models.

``import lepton_nb as lnb``; ``lnb.Studio()`` in a notebook, ``lnb.train(recipe)`` anywhere.
The package is layered by a run's life (``errors`` → ``spec`` → ``data``/``plotting`` → ``models``/``robust`` →
``evaluate`` → ``train`` → ``interpret`` → ``artifacts`` → ``workflows`` → ``tools``/``search`` → ``cli``/``ui``);
the core imports no UI library, and ``Studio`` loads the widgets only when first used.
"""

from __future__ import annotations

import sys
from typing import Any

from . import datasets, plotting, robust
from .artifacts import Predictor, Run, load_run
from .data import DataBundle, build_data
from .errors import CheckpointError, DataError, LeptonError, ModelError, Problem, RecipeError, UsageError
from .evaluate import EvalResult, evaluate
from .models import build_model, count_parameters
from .robust import AttackResult, RobustnessCurve, attack
from .spec import Recipe
from .tools import (
    EnsembleResult,
    ExportResult,
    LaunchCommand,
    OptimizeResult,
    ensemble,
    exercises,
    export,
    launch_command,
    optimize,
    prune,
    quantize,
)
from .train.control import Control
from .train.history import History
from .train.trainer import Trainer
from .workflows import (
    CVResult,
    LRFindResult,
    Session,
    WorkerSession,
    cross_validate,
    lr_find,
    pretrain,
    robustness,
    train,
)

__version__ = "0.1.0"

if "ipykernel" in sys.modules:  # in a notebook, training is near: pay one-off imports in the background
    from .warmup import warm_up_in_background

    warm_up_in_background()

__all__ = [
    "AttackResult",
    "CVResult",
    "CheckpointError",
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
    "Problem",
    "Recipe",
    "RecipeError",
    "RobustnessCurve",
    "Run",
    "Session",
    "Studio",
    "Study",
    "Trainer",
    "UsageError",
    "WorkerSession",
    "build_data",
    "build_model",
    "count_parameters",
    "datasets",
    "exercises",
    "plotting",
    "attack",
    "cross_validate",
    "ensemble",
    "evaluate",
    "explain",
    "explain_attention",
    "export",
    "launch_command",
    "load_run",
    "lr_find",
    "optimize",
    "pretrain",
    "prune",
    "quantize",
    "robust",
    "replay",
    "robustness",
    "train",
    "tune",
]

_LAZY = {
    "Studio": ("lepton_nb.ui.studio", "Studio"),
    "replay": ("lepton_nb.ui.replay", "replay"),  # a finished run played in the live monitor
    "explain": ("lepton_nb.interpret.attribution", "explain"),  # loads captum on first use
    "tune": ("lepton_nb.search", "tune"),  # loads optuna on first use
    "Study": ("lepton_nb.search", "Study"),
    "explain_attention": ("lepton_nb.interpret.attention", "explain_attention"),
}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        import importlib

        module, attr = _LAZY[name]
        return getattr(importlib.import_module(module), attr)
    raise AttributeError(f"module 'lepton_nb' has no attribute {name!r}")
