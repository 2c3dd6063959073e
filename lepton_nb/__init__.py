"""lepton_nb: a notebook studio for training and understanding PyTorch models.

``import lepton_nb as lnb``; ``lnb.Studio()`` in a notebook, ``lnb.train(recipe)`` anywhere.
The package is layered by a run's life (``errors`` → ``recipe`` → ``data``/``plotting`` → ``models``/``robust`` →
``evaluation`` → ``training`` → ``interpret`` → ``artifacts`` → ``workflows`` → ``tools``/``search`` → ``cli``/``ui``);
the core imports no UI library. Every name of `EXPORTS` is loaded on first use (PEP 562), so ``import lepton_nb``
costs milliseconds and a process loads only what it uses: a studio's training process, for example, never
imports matplotlib or the widgets. `EXPORTS` is the one list of public names; ``__all__`` and the lazy table are
made from it, and a test checks that the ``TYPE_CHECKING`` imports (what editors and type checkers see) agree.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # what type checkers and editors see (tests/test_core_imports.py checks it against EXPORTS)
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

#: module → the public names it gives ``lnb`` (a module's own name: the module itself, e.g. ``lnb.plotting``)
EXPORTS: dict[str, tuple[str, ...]] = {
    "lepton_nb": ("datasets", "plotting", "robust"),
    "lepton_nb.artifacts": ("Predictor", "Run", "load_run"),
    "lepton_nb.data": ("DataBundle", "build_data"),
    "lepton_nb.errors": ("CheckpointError", "DataError", "LeptonError", "ModelError", "Problem", "RecipeError",
                         "UsageError"),
    "lepton_nb.evaluation": ("EvalResult", "evaluate"),
    "lepton_nb.interpret.attention": ("explain_attention",),
    "lepton_nb.interpret.attribution": ("explain",),  # loads captum on first use
    "lepton_nb.models": ("build_model", "count_parameters"),
    "lepton_nb.recipe": ("Recipe",),
    "lepton_nb.robust": ("AttackResult", "RobustnessCurve", "attack"),
    "lepton_nb.search": ("Study", "tune"),  # load optuna
    "lepton_nb.tools": ("EnsembleResult", "ExportResult", "LaunchCommand", "OptimizeResult", "ensemble", "exercises",
                        "export", "launch_command", "optimize", "prune", "quantize"),
    "lepton_nb.training.control": ("Control",),
    "lepton_nb.training.history": ("History",),
    "lepton_nb.training.trainer": ("Trainer",),
    "lepton_nb.ui.replay": ("replay",),  # a finished run played in the live monitor
    "lepton_nb.ui.studio": ("Studio",),  # loads the widgets
    "lepton_nb.workflows": ("CVResult", "LRFindResult", "Session", "WorkerSession", "cross_validate", "lr_find",
                            "pretrain", "robustness", "train"),
}
_LAZY = {name: module for module, names in EXPORTS.items() for name in names}
__all__ = sorted(_LAZY)


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'lepton_nb' has no attribute {name!r}")
    if module == __name__:  # a subpackage
        return importlib.import_module(f"{__name__}.{name}")
    if name == "Studio":  # in a kernel, the training process imports torch while this process does the same
        from .workflows.session.launch import prestart

        prestart()
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value  # later lookups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
