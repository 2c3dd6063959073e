"""The recipe's search section in Optuna's terms: distributions, suggestions, sampler, pruner, direction."""

from __future__ import annotations

import importlib.util
import math
import warnings
from typing import Any

import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution

from ..errors import Problem, RecipeError
from ..recipe import Recipe, SearchSection, check_space_for_search
from ..training.optim import monitor_mode


def distributions(space: dict[str, dict[str, Any]]) -> dict[str, BaseDistribution]:
    """Optuna distributions of a validated search space, keyed by dotted field name."""
    out: dict[str, BaseDistribution] = {}
    for key, dist in space.items():
        kind, args = next(iter(dist.items()))
        if kind == "choice":
            out[key] = CategoricalDistribution(list(args))
        elif kind in ("int", "log_int"):
            out[key] = IntDistribution(int(args[0]), int(args[1]), log=kind == "log_int")
        else:
            out[key] = FloatDistribution(float(args[0]), float(args[1]), log=kind == "log_uniform")
    return out


def suggest(trial: optuna.Trial, space: dict[str, dict[str, Any]]) -> dict[str, Any]:
    """The trial's values for every searched field."""
    out: dict[str, Any] = {}
    for key, dist in distributions(space).items():
        if isinstance(dist, CategoricalDistribution):
            out[key] = trial.suggest_categorical(key, dist.choices)
        elif isinstance(dist, IntDistribution):
            out[key] = trial.suggest_int(key, dist.low, dist.high, log=dist.log)
        else:
            out[key] = trial.suggest_float(key, dist.low, dist.high, log=dist.log)
    return out


def trial_recipe(base: Recipe, params: dict[str, Any], number: int) -> Recipe:
    """The base recipe with a trial's values applied, named ``<name>-t<number>`` (seeds unchanged)."""
    return base.updated({**params, "name": f"{base.name}-t{number:03d}"})


def direction(section: SearchSection) -> str:
    """maximize or minimize, with ``auto`` resolved from the objective (losses are minimized)."""
    if section.direction != "auto":
        return section.direction
    return "minimize" if monitor_mode(section.objective, "auto") == "min" else "maximize"


def make_sampler(section: SearchSection, worker: int = 0) -> optuna.samplers.BaseSampler:
    """The section's sampler, seeded (``search.seed`` plus the worker's index, so workers do not repeat)."""
    seed = section.seed + worker
    if section.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
    if section.sampler == "grid":
        grid = {}
        for key, dist in distributions(section.space).items():
            if isinstance(dist, CategoricalDistribution):
                grid[key] = list(dist.choices)
            else:
                grid[key] = list(range(int(dist.low), int(dist.high) + 1))
        return optuna.samplers.GridSampler(grid, seed=seed)
    if section.sampler == "cmaes":
        return optuna.samplers.CmaEsSampler(seed=seed, n_startup_trials=max(1, section.startup_trials),
                                            warn_independent_sampling=False)
    if section.pruner == "none":
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=section.startup_trials)
    with warnings.catch_warnings():  # Optuna 4.9 deprecated `gamma` for removal in 6.0 (pyproject caps optuna < 6)
        warnings.filterwarnings("ignore", message=".*gamma.*", category=FutureWarning)
        return optuna.samplers.TPESampler(seed=seed, n_startup_trials=section.startup_trials, gamma=good_group_size)


def good_group_size(finished: int) -> int:
    """How many of ``finished`` trials TPE models as "good": hyperopt's ⌈¼√n⌉ (at most 25), used when a pruner runs.

    Optuna's TPE ranks every completed trial above every pruned one, and its default good group is 10 % of the
    trials. When the pruner stops ~90 % of them, that 10 % is simply every trial that completed, whatever its
    value, and TPE keeps sampling near its first survivors (measured in ``benchmarks/bench_search.py``: width 8
    and weight decay 0.15–0.20 for 150 trials). With ⌈¼√n⌉ the good group is the best few completed trials.
    """
    return min(math.ceil(0.25 * math.sqrt(finished)), 25)


def make_pruner(section: SearchSection) -> optuna.pruners.BasePruner:
    if section.pruner == "median":
        # steps are 0-based epochs: with warmup_epochs=2, epochs 0 and 1 always finish
        return optuna.pruners.MedianPruner(n_startup_trials=section.startup_trials,
                                           n_warmup_steps=section.warmup_epochs)
    if section.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=max(1, section.warmup_epochs))
    return optuna.pruners.NopPruner()


def check_searchable(recipe: Recipe) -> None:
    """Raise RecipeError when a recipe cannot be searched: nothing to vary, an objective it never measures,
    a sampler whose package is missing."""
    s = recipe.search
    problems = check_space_for_search(s)
    if s.objective.startswith("val_"):
        metric = s.objective[4:]
        if s.cv_folds < 2 and recipe.data.val_fraction == 0:
            problems.append(Problem("search.objective", s.objective, "needs a validation split, and "
                                    "data.val_fraction is 0; allowed: data.val_fraction > 0, search.cv_folds ≥ 2, "
                                    "or objective train_loss"))
        elif metric != "loss" and metric not in recipe.evaluate.metrics:
            problems.append(Problem("search.objective", s.objective, f"{metric} is not in evaluate.metrics; allowed: "
                                    "val_loss or val_<one of evaluate.metrics>"))
    if s.sampler == "cmaes" and importlib.util.find_spec("cmaes") is None:
        problems.append(Problem("search.sampler", "cmaes", "needs the cmaes package (pip install cmaes); allowed "
                                                           "without it: tpe, random, grid"))
    if problems:
        raise RecipeError(problems)
