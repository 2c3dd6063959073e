"""lepton_nb: a notebook studio for training and understanding PyTorch models.

``import lepton_nb as lnb``; ``lnb.Studio()`` in a notebook, ``lnb.train(recipe)`` anywhere.
The package is layered by a run's life (``errors`` → ``recipe`` → ``data``/``plotting`` → ``models``/``robust`` →
``evaluation`` → ``training`` → ``interpret`` → ``artifacts`` → ``workflows`` → ``tools``/``search`` → ``cli``/``ui``);
the core imports no UI library. Every name below is loaded on first use (PEP 562), so ``import lepton_nb``
costs milliseconds and a process loads only what it uses: a studio's worker process, for example, never
imports matplotlib or the widgets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see; at run time `__getattr__` loads each name on first use
    from . import datasets, plotting, robust
    from .artifacts import Predictor, Run, load_run
    from .data import DataBundle, build_data
    from .errors import CheckpointError, DataError, LeptonError, ModelError, Problem, RecipeError, UsageError
    from .evaluation import EvalResult, evaluate
    from .interpret.attention import explain_attention
    from .interpret.attribution import explain
    from .models import build_model, count_parameters
    from .recipe import Recipe
    from .robust import AttackResult, RobustnessCurve, attack
    from .search import Study, tune
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
    from .training.control import Control
    from .training.history import History
    from .training.trainer import Trainer
    from .ui.replay import replay
    from .ui.studio import Studio
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

_MODULES = {"datasets", "plotting", "robust"}
_LAZY = {
    **{name: "lepton_nb.artifacts" for name in ("Predictor", "Run", "load_run")},
    **{name: "lepton_nb.data" for name in ("DataBundle", "build_data")},
    **{name: "lepton_nb.errors" for name in ("CheckpointError", "DataError", "LeptonError", "ModelError", "Problem",
                                             "RecipeError", "UsageError")},
    **{name: "lepton_nb.evaluation" for name in ("EvalResult", "evaluate")},
    **{name: "lepton_nb.models" for name in ("build_model", "count_parameters")},
    **{name: "lepton_nb.robust" for name in ("AttackResult", "RobustnessCurve", "attack")},
    "Recipe": "lepton_nb.recipe",
    **{name: "lepton_nb.tools" for name in ("EnsembleResult", "ExportResult", "LaunchCommand", "OptimizeResult",
                                            "ensemble", "exercises", "export", "launch_command", "optimize", "prune",
                                            "quantize")},
    "Control": "lepton_nb.training.control",
    "History": "lepton_nb.training.history",
    "Trainer": "lepton_nb.training.trainer",
    **{name: "lepton_nb.workflows" for name in ("CVResult", "LRFindResult", "Session", "WorkerSession",
                                                "cross_validate", "lr_find", "pretrain", "robustness", "train")},
    "Studio": "lepton_nb.ui.studio",  # loads the widgets
    "replay": "lepton_nb.ui.replay",  # a finished run played in the live monitor
    "explain": "lepton_nb.interpret.attribution",  # loads captum on first use
    "explain_attention": "lepton_nb.interpret.attention",
    **{name: "lepton_nb.search" for name in ("Study", "tune")},  # load optuna
}


def __getattr__(name: str) -> Any:
    if name in _MODULES:
        return importlib.import_module(f"lepton_nb.{name}")
    if name in _LAZY:
        if name == "Studio":  # in a kernel, the worker imports torch while this process does the same
            from .spawn import prestart

            prestart()
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value  # later lookups skip this function
        return value
    raise AttributeError(f"module 'lepton_nb' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
