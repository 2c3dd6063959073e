"""What a user runs: fit a recipe (`train`), cross-validate it, find a learning rate, fine-tune from
another run, pretrain a text encoder on unlabeled text, measure robustness curves, and a `Session` that trains
in a background thread or (`WorkerSession`) in a warm worker process."""

from .cross_validate import CVResult, cross_validate
from .fit import as_recipe, data_summary, fit_bundle, make_trainer, train
from .lr_find import LRFindResult, lr_find
from .pretrain import pretrain
from .robustness import remember as remember_robustness
from .robustness import robustness
from .session import Session
from .worker_session import WorkerSession, open_session

__all__ = ["CVResult", "LRFindResult", "Session", "WorkerSession", "as_recipe", "cross_validate", "data_summary",
           "fit_bundle", "lr_find", "make_trainer", "open_session", "pretrain", "remember_robustness", "robustness",
           "train"]
