"""What a study searches, kept in the study's own database: a resume or another machine joins only the same search.

Optuna keys a study by its name alone. A study resumed with another objective would keep its direction
(the highest loss reported as best), and one resumed with any other field changed would mix trials of two
recipes, so that ``best_recipe`` no longer reproduces the best trial. The study's user attributes hold the
objective, the direction, a hash of the recipe and the recipe itself; every process that opens the study
compares its own, and one that differs is refused with the fields that differ. Only the budget
(``search.trials``, ``search.timeout``) and where the study lives (``search.storage``) may change.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

import optuna

from ..errors import Problem, RecipeError
from ..recipe import Recipe
from .space import direction

KEY = "lepton_nb"  # the study's user attribute that holds its identity
MAY_CHANGE = ("search.trials", "search.timeout", "search.storage")
SHOWN = 8  # differing fields named in the refusal


def _flat(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}.{key}" if prefix else key
        if isinstance(value, dict) and dotted != "search.space":  # the space is one value
            out.update(_flat(value, dotted))
        else:
            out[dotted] = value
    return out


def identity(recipe: Recipe) -> dict[str, Any]:
    """The study's identity for ``recipe``: objective, direction, recipe hash and the recipe's fields."""
    fields = {k: v for k, v in _flat(recipe.to_dict()).items() if k not in MAY_CHANGE and k != "name"}
    digest = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str).encode()).hexdigest()[:16]
    return {"objective": recipe.search.objective, "direction": direction(recipe.search), "recipe_hash": digest,
            "recipe": fields}


def check_same_search(study: optuna.Study, recipe: Recipe, where: str) -> None:
    """Record the identity on a new study; refuse (RecipeError naming each differing field) another search."""
    mine = identity(recipe)
    saved = study.user_attrs.get(KEY)
    if not isinstance(saved, dict):  # a new study (or one written before identities were kept)
        if study.trials and study.direction.name.lower() != mine["direction"]:
            raise RecipeError([_problem("search.direction", mine["direction"], study.direction.name.lower(),
                                        study.study_name, where)])
        study.set_user_attr(KEY, mine)
        return
    if saved.get("recipe_hash") == mine["recipe_hash"]:
        return
    old, new = saved.get("recipe", {}), mine["recipe"]
    keys = [k for k in ("search.objective", "search.direction") if old.get(k) != new.get(k)]
    keys += sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k) and k not in keys)
    problems = [_problem(k, new.get(k, "(absent)"), old.get(k, "(absent)"), study.study_name, where)
                for k in keys[:SHOWN]]
    if len(keys) > SHOWN:
        problems.append(Problem("recipe", f"{len(keys) - SHOWN} more fields", "differ from the study's as well"))
    if not problems:  # the hash differs but no field does: a recipe written by another version
        problems = [Problem("recipe", mine["recipe_hash"], f"differs from study {study.study_name!r}'s "
                                                            f"({saved.get('recipe_hash')})")]
    raise RecipeError(problems)


def _problem(key: str, value: Any, old: Any, name: str, where: str) -> Problem:
    shown = json.dumps(old, default=str)
    return Problem(key, value, f"study {name!r} ({where}) was made with {shown}, so its trials do not answer "
                               f"this recipe; allowed: {shown} to continue that study, or another recipe name "
                               "(or out folder) for a new study")
