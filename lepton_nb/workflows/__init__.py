"""What a user runs: fit a recipe (`train`, through a `RunPlan`), cross-validate it, find a learning rate,
fine-tune from another run, pretrain a text encoder on unlabeled text, measure robustness curves, and a
`Session` that trains in a background thread or (`WorkerSession`) in the warm training process.

Names load on first use (PEP 562), so `lepton_nb.workflows.session.launch` imports no torch. No module here is named
like a function it exports (the import system would put the module in the function's place).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .curves import remember as remember_robustness
    from .curves import robustness
    from .fit import as_recipe, data_summary, make_trainer, train
    from .kfold import CVResult, cross_validate
    from .lr_range import LRFindResult, lr_find
    from .plan import RunOptions, RunPlan, plan_run
    from .pretraining import pretrain
    from .session import Session, WorkerSession, open_session

_LAZY = {
    **dict.fromkeys(("CVResult", "cross_validate"), "kfold"),
    **dict.fromkeys(("as_recipe", "data_summary", "make_trainer", "train"), "fit"),
    **dict.fromkeys(("LRFindResult", "lr_find"), "lr_range"),
    **dict.fromkeys(("RunOptions", "RunPlan", "plan_run"), "plan"),
    "pretrain": "pretraining",
    "robustness": "curves",
    **dict.fromkeys(("Session", "WorkerSession", "open_session"), "session"),
}
_RENAMED = {"remember_robustness": ("curves", "remember")}

__all__ = ["CVResult", "LRFindResult", "RunOptions", "RunPlan", "Session", "WorkerSession", "as_recipe",
           "cross_validate", "data_summary", "lr_find", "make_trainer", "open_session", "plan_run", "pretrain",
           "remember_robustness", "robustness", "train"]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(f"{__name__}.{_LAZY[name]}"), name)
    if name in _RENAMED:
        module, attr = _RENAMED[name]
        return getattr(importlib.import_module(f"{__name__}.{module}"), attr)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
