"""Self-checks for the classroom exercises in ``notebooks/exercises``.

``lnb.exercises.check("augmentation", run=run)`` returns `Feedback`: every check the exercise declares, passed
or not, each with a specific hint, shown as text or HTML in a notebook and as a machine-readable result for
the autograder (`lepton_nb.classroom`). A check never raises: answers may be passed by name or in the order the
exercise lists them; an unfinished notebook still runs and says what is left to do; an answer the check cannot
read is named in a note above the list. The list has the same checks, in the same order, from the first run on.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ..feedback import MIME, Feedback, Point, run_summary
from ..recipe import Recipe
from .exercise_rules import (
    AUGMENTATION,
    AUGMENTATION_DATA,
    EXPLAIN,
    LR_FINDER,
    ROBUST_CLEAN,
    ROBUST_EPS,
    ROBUST_TARGET,
    ROBUSTNESS,
    SEARCH,
    SEARCH_SETTINGS,
    TRANSFORMERS,
    grade_augmentation,
    grade_explain_misclassified,
    grade_lr_finder,
    grade_robustness,
    grade_search,
    grade_transformers,
    is_run,
)


def augmentation_starter() -> Recipe:
    """The exercise's starting recipe: few training images and no augmentation (about 96 % at best)."""
    return Recipe.default().updated({**AUGMENTATION_DATA, "augment.ops": [], "train.epochs": 12,
                                     "name": "augmentation-exercise"})


def lr_finder_starter() -> Recipe:
    """The LR-finder exercise starts from the default recipe."""
    return Recipe.default()


def explain_starter() -> Recipe:
    """The model whose mistakes the explanation exercise looks at."""
    return Recipe.default().updated({"train.epochs": 4})


def robustness_starter() -> Recipe:
    """The robustness exercise's starting recipe: a standard (not adversarially trained) digit model."""
    return Recipe.default().updated({"name": "robust-exercise", "train.epochs": 3})


def search_starter() -> Recipe:
    """The search exercise's starting recipe: quick trials, no attribution probes, nothing searched yet."""
    return Recipe.default().updated({**SEARCH_SETTINGS, "interpret.enabled": False, "name": "search-exercise"})


def transformers_starter() -> Recipe:
    """The Transformer exercise's recipe: a small text_transformer on the bundled review sentences, with
    pretraining settings for `lnb.pretrain`."""
    from ..datasets import reviews_path

    return Recipe.preset("sentiment").updated({
        "name": "transformers-exercise", "data.path": str(reviews_path()), "data.max_len": 24,
        "model.arch": "text_transformer", "model.embed_dim": 32, "model.heads": 2, "model.depth": 2,
        "model.hidden": 64, "model.dropout": 0.1, "model.pooling": "cls", "augment.ops": [],
        "interpret.enabled": False, "train.lr": 5e-3, "train.batch_size": 16, "train.epochs": 12,
        "train.scheduler": "one_cycle", "train.weight_decay": 1e-3,
        "pretrain.epochs": 15, "pretrain.batch_size": 16, "pretrain.lr": 3e-3})


@dataclass(frozen=True)
class Exercise:
    """One exercise: its checks (name → what it asks, in order), how it grades, where students start, and the
    metric the class gallery ranks by."""

    name: str
    checks: dict[str, str]
    grade: Callable[..., None]
    starter: Callable[[], Recipe]
    metric: str = "accuracy"

    @property
    def answers(self) -> tuple[str, ...]:
        """The answers it takes, in the order positional answers bind to."""
        return tuple(list(inspect.signature(self.grade).parameters)[1:])


EXERCISES: dict[str, Exercise] = {e.name: e for e in (
    Exercise("augmentation", AUGMENTATION, grade_augmentation, augmentation_starter),
    Exercise("lr_finder", LR_FINDER, grade_lr_finder, lr_finder_starter),
    Exercise("explain_misclassified", EXPLAIN, grade_explain_misclassified, explain_starter),
    Exercise("robustness", ROBUSTNESS, grade_robustness, robustness_starter, metric="robust_accuracy"),
    Exercise("search", SEARCH, grade_search, search_starter),
    Exercise("transformers", TRANSFORMERS, grade_transformers, transformers_starter),
)}


def _bind(ex: Exercise, args: tuple[Any, ...], answers: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    """Answers by name (positional ones in the exercise's order) and what was wrong with the call."""
    names = ex.answers
    call = f"check('{ex.name}', {', '.join(f'{n}=...' for n in names)})"
    problems = []
    if len(args) > len(names):
        problems.append(f"{len(args)} answers given without names, but this exercise takes {len(names)}: {call}")
    bound = dict(zip(names, args))
    for key, value in answers.items():
        if key in bound:
            problems.append(f"{key} was given twice (by position and by name)")
        elif key not in names:
            problems.append(f"unknown answer {key!r}; this exercise takes {', '.join(names)}: {call}")
        else:
            bound[key] = value
    return bound, problems


def check(exercise: str, *args: Any, **answers: Any) -> Feedback:
    """Check an exercise's answers (by name, or in the order the exercise lists them); returns `Feedback`.
    Never raises."""
    ex = EXERCISES.get(exercise) if isinstance(exercise, str) else None
    if ex is None:
        fb = Feedback(str(exercise), {"exercise": "the exercise's name is known"})
        fb.ok("exercise", False, "", f"exercise: {exercise!r} — allowed: {', '.join(EXERCISES)}")
        return fb.finish()
    fb = Feedback(ex.name, dict(ex.checks))
    bound, problems = _bind(ex, args, answers)
    try:
        ex.grade(fb, **bound)
    except Exception as exc:  # an answer the rules could not read: say so, never raise in a student's notebook
        problems.append(f"the check could not read your answers ({type(exc).__name__}: {exc}); pass what the "
                        "notebook asks for")
        fb.note = "; ".join(problems)
        return fb.finish(blocked_by="see the ⚠ note above")
    fb.note = "; ".join(problems)
    run = bound.get("run")
    if is_run(run):
        fb.run = run_summary(run)
        if fb.run is not None:
            fb.run["metrics"] = {**fb.run["metrics"], **fb.metrics}
    return fb.finish()


__all__ = ["EXERCISES", "MIME", "ROBUST_CLEAN", "ROBUST_EPS", "ROBUST_TARGET", "Exercise", "Feedback", "Point",
           "augmentation_starter", "check", "explain_starter", "lr_finder_starter", "robustness_starter",
           "search_starter", "transformers_starter"]
