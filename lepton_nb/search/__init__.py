"""Hyperparameter search with Optuna: `tune` runs a recipe's search space, every trial an ordinary run.

The study lives in a database (SQLite in the study folder by default) so it resumes after a restart and
several worker processes can share it; `Study` reads results back, also while a search still runs.
"""

from .engine import TrialControl, TrialPruning, finished_count, open_study, tune
from .folder import StudyFolder, open_storage
from .result import Study, trials_frame
from .space import check_searchable, distributions, make_pruner, make_sampler, trial_recipe

__all__ = ["Study", "StudyFolder", "TrialControl", "TrialPruning", "check_searchable", "distributions",
           "finished_count", "make_pruner", "make_sampler", "open_storage", "open_study", "trial_recipe",
           "trials_frame", "tune"]
