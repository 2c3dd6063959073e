"""The recipe's search section in Optuna's terms: distributions, suggestions, sampler, pruner, direction."""

from __future__ import annotations

import importlib.util
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import optuna
from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.trial import FrozenTrial, TrialState

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


def trial_seed(seed: int, number: int) -> int:
    """The seed of trial ``number``'s draws: from the search's seed and the trial's number alone."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


class TrialSeeded(optuna.samplers.BaseSampler):
    """A sampler whose draws for trial *n* are seeded from ``(search.seed, n)``: one stream per trial number.

    Optuna seeds a sampler once per process, so every process that opens a study (a resume, a second worker,
    another machine) replays the same stream: a resumed study proposed its first trials again, and two
    machines drew the same start-up trials. Trial numbers are handed out by the study's database, unique
    across processes, so seeding each trial from its number continues the stream on resume, gives every
    process distinct draws (the random start-up trials are shared out among them) and stays reproducible:
    trial *n*'s random start-up values are the same whichever process runs it. The sampler itself (TPE,
    random, CMA-ES) is Optuna's, built afresh for each trial; its model reads the finished trials from the
    study, as before. Grid search needs none of this: Optuna's grid sampler skips the points already taken.
    """

    def __init__(self, build: Callable[[int], optuna.samplers.BaseSampler], seed: int):
        self._build, self._seed = build, seed
        self._number: int | None = None
        self._inner = build(seed)

    def __str__(self) -> str:
        return f"TrialSeeded({self._inner.__class__.__name__}, seed={self._seed})"

    def _for(self, trial: FrozenTrial) -> optuna.samplers.BaseSampler:
        if trial.number != self._number:
            self._number = trial.number
            self._inner = self._build(trial_seed(self._seed, trial.number))
        return self._inner

    def infer_relative_search_space(self, study: optuna.Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        return self._for(trial).infer_relative_search_space(study, trial)

    def sample_relative(self, study: optuna.Study, trial: FrozenTrial,
                        search_space: dict[str, BaseDistribution]) -> dict[str, Any]:
        return self._for(trial).sample_relative(study, trial, search_space)

    def sample_independent(self, study: optuna.Study, trial: FrozenTrial, param_name: str,
                           param_distribution: BaseDistribution) -> Any:
        return self._for(trial).sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: optuna.Study, trial: FrozenTrial) -> None:
        self._for(trial).before_trial(study, trial)

    def after_trial(self, study: optuna.Study, trial: FrozenTrial, state: TrialState,
                    values: Sequence[float] | None) -> None:
        self._for(trial).after_trial(study, trial, state, values)

    def reseed_rng(self) -> None:
        """Nothing to do: each trial's draws come from its number (Optuna reseeds before parallel jobs)."""


def make_sampler(section: SearchSection) -> optuna.samplers.BaseSampler:
    """The section's sampler, each trial's draws seeded from ``search.seed`` and its number (`TrialSeeded`)."""
    if section.sampler == "grid":
        grid = {}
        for key, dist in distributions(section.space).items():
            if isinstance(dist, CategoricalDistribution):
                grid[key] = list(dist.choices)
            else:
                grid[key] = list(range(int(dist.low), int(dist.high) + 1))
        # one order of the grid in every process: the sampler takes the points no trial has taken yet
        return optuna.samplers.GridSampler(grid, seed=section.seed)
    return TrialSeeded(lambda seed: _sampler(section, seed), section.seed)


def _sampler(section: SearchSection, seed: int) -> optuna.samplers.BaseSampler:
    if section.sampler == "random":
        return optuna.samplers.RandomSampler(seed=seed)
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
