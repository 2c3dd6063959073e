"""The recipe's ``search`` section: which fields a hyperparameter search varies, and how the search runs.

``"search": {"space": {"train.lr": {"log_uniform": [1e-4, 1e-1]}, "model.width": {"choice": [16, 32, 64]}},
"trials": 30}``. Every distribution is checked against the searched field's own metadata (type, min/max,
choices), so a search can never propose a value the recipe would refuse. Nothing here imports Optuna:
the engine (`lepton_nb.search`) turns these plain dicts into Optuna distributions.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import typing
from dataclasses import dataclass
from typing import Any

from ..errors import Problem
from .fields import setting
from .parse import _check_value
from .vocab import MONITORS

KINDS = ("uniform", "log_uniform", "int", "log_int", "choice")
# the kinds in words (the Search tab shows these, with the kind's own name on hover)
KIND_WORDS = {"uniform": "any number", "log_uniform": "number, log scale", "int": "whole number",
              "log_int": "whole number, log scale", "choice": "one of a list"}
# what the studio shows on hover of the search settings whose words above leave out the technical name
TECHNICAL_TERMS = {
    "search.sampler": "tpe: Tree-structured Parzen Estimator, a Bayesian optimization method (optuna.samplers."
                      "TPESampler); random: RandomSampler; grid: GridSampler; cmaes: CMA-ES, covariance matrix "
                      "adaptation evolution strategy (CmaEsSampler).",
    "search.storage": "an SQLAlchemy database URL, as Optuna's RDBStorage takes it: sqlite:///path/study.db, or "
                      "postgresql+psycopg://user:password@host:port/db for a PostgreSQL server (the psycopg 3 "
                      "driver: pip install 'lepton_nb[postgres]'; a plain postgresql:// URL means psycopg2).",
    "search.pruner": "median: optuna.pruners.MedianPruner; hyperband: HyperbandPruner (successive halving).",
}
KINDS_FOR_TYPE: dict[type, tuple[str, ...]] = {float: ("uniform", "log_uniform", "choice"),
                                               int: ("int", "log_int", "choice"), str: ("choice",),
                                               bool: ("choice",)}
SEARCHABLE_SECTIONS = ("normalize", "augment", "model", "train")
NOT_SEARCHABLE = ("train.seed", "train.device", "train.checkpoint", "train.mixed_precision", "model.init_from",
                  "model.pretrained", "model.freeze")


@dataclass
class SearchSection:
    """A hyperparameter search (Optuna): the space, the budget, the sampler, the pruner and the objective."""

    space: dict[str, dict[str, Any]] = setting(
        {}, "Field → distribution, e.g. {'train.lr': {'log_uniform': [1e-4, 0.1]}, 'model.width': "
            "{'choice': [16, 32, 64]}}; kinds: uniform, log_uniform, int, log_int, choice.")
    trials: int = setting(20, "Trials to finish (completed or pruned) before the search ends.", min=1, max=100_000)
    timeout: float = setting(0.0, "Start no new trial after this many seconds (0 = no limit).", min=0.0, max=1e7)
    sampler: str = setting("tpe", "How the next trial's values are chosen: tpe learns from the trials so far "
                                  "which values look promising; random draws them by chance; grid tries every "
                                  "combination of listed values and whole numbers; cmaes moves a cloud of number "
                                  "values towards better results (numbers only).",
                           choices=("tpe", "random", "grid", "cmaes"))
    pruner: str = setting("median", "Stop unpromising trials early: median (below the median of earlier trials at "
                                    "the same epoch), hyperband, or none.", choices=("median", "hyperband", "none"))
    objective: str = setting("val_accuracy", "The monitored value the search optimizes (the best epoch's value).",
                             choices=MONITORS)
    direction: str = setting("auto", "maximize or minimize the objective; auto: minimize losses, maximize the rest.",
                             choices=("auto", "maximize", "minimize"))
    cv_folds: int = setting(0, "0: each trial is one run, scored on the validation split; k ≥ 2: k-fold "
                               "cross-validation per trial (small data), scored on the held-out folds.",
                            min=0, max=50, label="cv folds")
    startup_trials: int = setting(5, "Random trials before TPE models the space, and finished trials before the "
                                     "median pruner prunes.", min=0, max=10_000)
    warmup_epochs: int = setting(2, "Epochs every trial trains before the pruner may stop it (a trial's first "
                                    "epochs can say little about where it ends).", min=0, max=10_000,
                                 label="warmup epochs")
    storage: str = setting("", "Where the study's results are kept: empty = a file study.db in the study folder; or "
                               "the address of a database that several computers share, e.g. "
                               "postgresql+psycopg://user@host:5432/db.")
    seed: int = setting(0, "Seed of the sampler (each trial keeps the recipe's train.seed).", min=0, max=2**31 - 1)


def _field_types(cls: type, prefix: str = "") -> dict[str, tuple[Any, dict[str, Any]]]:
    out: dict[str, tuple[Any, dict[str, Any]]] = {}
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        key = f"{prefix}.{f.name}" if prefix else f.name
        typ = hints[f.name]
        if isinstance(typ, type) and dataclasses.is_dataclass(typ):
            out.update(_field_types(typ, key))
        else:
            out[key] = (typ, dict(f.metadata))
    return out


def searchable_fields(recipe_cls: type) -> dict[str, tuple[type, dict[str, Any]]]:
    """Dotted field → (type, metadata) of every field a search may vary: numbers with a range, choices, switches."""
    out = {}
    for key, (typ, meta) in _field_types(recipe_cls).items():
        if key.split(".", 1)[0] not in SEARCHABLE_SECTIONS or key in NOT_SEARCHABLE:
            continue
        ranged = typ in (int, float) and meta.get("min") is not None and meta.get("max") is not None
        if ranged or typ is bool or (typ is str and meta.get("choices")):
            out[key] = (typ, meta)
    return out


def allowed_text(typ: type, meta: dict[str, Any]) -> str:
    """What a field allows, in the words of a search space: kinds and range (or choices)."""
    kinds = " or ".join(KINDS_FOR_TYPE[typ])
    if typ is bool:
        return "choice of true/false"
    if typ is str:
        return f"choice of {', '.join(meta['choices'])}"
    return f"{kinds} within {meta['min']:g} … {meta['max']:g}"


def plain_allowed(typ: type, meta: dict[str, Any]) -> str:
    """What a field allows, in words a newcomer reads ("whole number from 1 to 8"); `allowed_text` says it in
    the search space's own terms (the kinds a recipe names)."""
    if typ is bool:
        return "on or off"
    if typ is str:
        return f"one of {', '.join(meta['choices'])}"
    what = "whole number" if typ is int else "number"
    return f"{what} from {meta['min']:g} to {meta['max']:g}"


def space_problems(space: Any, recipe_cls: type) -> list[Problem]:
    """Every problem of a search space: unknown or unsearchable fields, wrong kinds, ranges the field refuses."""
    if not isinstance(space, dict):
        return [Problem("search.space", space, "allowed: an object field → distribution")]
    fields = searchable_fields(recipe_cls)
    every = _field_types(recipe_cls)
    problems: list[Problem] = []
    for key, dist in space.items():
        where = f"search.space.{key}"
        if key not in fields:
            if key in every:
                why = "cannot be searched (no range, or it is not a hyperparameter)"
            else:
                close = difflib.get_close_matches(str(key), list(fields), n=1, cutoff=0.6)
                why = f"no such field; did you mean '{close[0]}'?" if close else "no such field"
            problems.append(Problem(where, dist, f"{why}; allowed: {', '.join(fields)}"))
            continue
        typ, meta = fields[key]
        problems.extend(_dist_problems(where, key, dist, typ, meta))
    return problems


def _dist_problems(where: str, key: str, dist: Any, typ: type, meta: dict[str, Any]) -> list[Problem]:
    kinds = KINDS_FOR_TYPE[typ]
    allowed = f"allowed for {key}: {allowed_text(typ, meta)}"
    if not isinstance(dist, dict) or len(dist) != 1 or next(iter(dist)) not in KINDS:
        return [Problem(where, dist, f"one of {{{', '.join(repr(k) + ': …' for k in kinds)}}}; {allowed}")]
    kind, args = next(iter(dist.items()))
    if kind not in kinds:
        word = {float: "number", int: "whole-number", str: "named-choice", bool: "true/false"}[typ]
        return [Problem(where, dist, f"{kind} does not fit a {word} field; {allowed}")]
    if kind == "choice":
        if not isinstance(args, list) or not args:
            return [Problem(where, dist, f"choice needs a non-empty list of values; {allowed}")]
        scratch: list[Problem] = []
        for i, value in enumerate(args):
            if isinstance(value, (list, dict)) or value is None:
                scratch.append(Problem(f"{where}.choice[{i}]", value, allowed))
            else:
                _check_value(value, typ, meta, f"{where}.choice[{i}]", scratch)
        if not scratch and len({repr(v) for v in args}) != len(args):
            scratch.append(Problem(where, dist, f"choice values must differ; {allowed}"))
        return [Problem(p.field, p.value, f"{p.allowed} ({key}'s own range)") for p in scratch]
    whole = kind in ("int", "log_int")
    if (not isinstance(args, list) or len(args) != 2
            or any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in args)
            or any(not math.isfinite(float(v)) for v in args)
            or (whole and any(float(v) != int(v) for v in args))):
        word = "whole numbers" if whole else "numbers"
        return [Problem(where, dist, f"{kind} needs [low, high], two {word}; {allowed}")]
    lo, hi = float(args[0]), float(args[1])
    if lo >= hi:
        return [Problem(where, dist, f"low must be below high; {allowed}")]
    if kind.startswith("log") and lo <= 0:
        return [Problem(where, dist, f"{kind} needs low > 0; {allowed}")]
    if lo < meta["min"] or hi > meta["max"]:
        return [Problem(where, dist, f"[{lo:g}, {hi:g}] leaves {key}'s range {meta['min']:g} … {meta['max']:g}; "
                                     f"{allowed}")]
    return []


def search_problems(section: SearchSection, recipe_cls: type) -> list[Problem]:
    """Problems of the section as a whole: the space, and settings that do not fit together."""
    out = space_problems(section.space, recipe_cls)
    if section.cv_folds == 1:
        out.append(Problem("search.cv_folds", 1, "allowed: 0 (no cross-validation) or at least 2 folds"))
    if section.cv_folds >= 2 and section.objective == "train_loss":
        out.append(Problem("search.objective", section.objective, "cross-validation scores held-out folds; "
                                                                  "allowed with cv_folds: " +
                           ", ".join(m for m in MONITORS if m.startswith("val_"))))
    if section.sampler == "grid" and isinstance(section.space, dict):
        for key, dist in section.space.items():
            if isinstance(dist, dict) and any(k in ("uniform", "log_uniform") for k in dist):
                out.append(Problem(f"search.space.{key}", dist, "the grid sampler needs finite values; allowed "
                                                                "with sampler grid: choice, int, log_int"))
    return out


def check_space_for_search(section: SearchSection) -> list[Problem]:
    """What a search needs beyond a valid section: at least one field to vary."""
    if not section.space:
        return [Problem("search.space", {}, "empty: nothing to search; allowed: at least one field, e.g. "
                                            "{\"train.lr\": {\"log_uniform\": [0.0001, 0.1]}}")]
    return []


def pruning_note(section: SearchSection, epochs: int) -> str:
    """Why the section's pruner saves no training ('' when it can stop a trial before its end): its warm-up
    covers every step, or every step but the last (then it can only stop a trial that has already finished).

    A trial reports once per epoch (``epochs``, or the most a searched ``train.epochs`` allows), or once per
    fold when it cross-validates. The median pruner may stop a trial from step ``warmup_epochs`` on (0-based);
    hyperband from step ``max(1, warmup_epochs)`` (its first rung).
    """
    if section.pruner == "none":
        return ""
    if section.cv_folds >= 2:
        steps, unit, one = section.cv_folds, "folds", "fold"
    else:
        searched = section.space.get("train.epochs") if isinstance(section.space, dict) else None
        if isinstance(searched, dict) and searched:
            values = next(iter(searched.values()))
            epochs = max(int(v) for v in values if isinstance(v, (int, float)))
        steps, unit, one = epochs, "epochs", "epoch"
    earliest = 1 if section.pruner == "hyperband" else 0  # the first step it may ever stop at
    first = max(earliest, section.warmup_epochs)
    if first < steps - 1:
        return ""
    allowed = "allowed for pruning that saves time: " + (
        (f"search.warmup_epochs below {steps - 1}" if steps > 2 else "search.warmup_epochs 0")
        if earliest < steps - 1 else
        f"at least {earliest + 2} {unit} per trial, with search.warmup_epochs at most {earliest}")
    has = f"a trial has {steps} {unit if steps != 1 else one}"
    if first >= steps:
        return (f"the {section.pruner} pruner never stops a trial: search.warmup_epochs is {section.warmup_epochs} "
                f"and {has}; {allowed}")
    return (f"the {section.pruner} pruner can stop a trial only after its last {one}, when it has cost all its "
            f"training (search.warmup_epochs is {section.warmup_epochs} and {has}); {allowed}")
