"""Field metadata of recipe sections: one source for validation, the command line and the studio's forms."""

from __future__ import annotations

import copy
import dataclasses
import typing
from dataclasses import field
from typing import Any


def setting(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    label: str | None = None,
    log: bool = False,
    applies_to: tuple[str, ...] | None = None,
    item_choices: tuple[str, ...] | None = None,
    choice_labels: dict[str, str] | None = None,
    affects_training: bool = True,
) -> Any:
    """A dataclass field with the metadata forms and validation read.

    ``applies_to`` names the data kinds or architectures a field matters for, so a form can hide it (a whole
    section too). ``choice_labels`` gives choices words a newcomer reads (the choice itself stays the value and is
    named on hover). ``affects_training=False`` marks what cannot change the trained weights or the curves (how a
    run is named, evaluated, explained or searched), so comparisons of runs leave it out.
    """
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "choices": choices,
        "label": label,
        "log": log,
        "applies_to": applies_to,
        "item_choices": item_choices,
        "choice_labels": choice_labels,
        "affects_training": affects_training,
    }
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata=meta)
    return field(default=default, metadata=meta)


def describe_fields(section: Any) -> list[dict[str, Any]]:
    """Field name, type, default and metadata of a section: what form builders need."""
    hints = typing.get_type_hints(type(section) if not isinstance(section, type) else section)
    out = []
    for f in dataclasses.fields(section):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append({"name": f.name, "type": hints[f.name], "default": default, **f.metadata})
    return out


def applies(applies_to: Any, context: set[Any]) -> bool:
    """The one rule of where a setting matters: a field or a whole section with ``applies_to`` applies when it
    names something in ``context`` (see `applies_context`); without ``applies_to`` it always does."""
    return not applies_to or bool(context & set(applies_to))


def applies_context(values: dict[str, Any]) -> set[Any]:
    """What ``applies_to`` names, read from a recipe's values (a dict, valid or not): the data source and its kind,
    the architecture, and the chosen scheduler, normalization, adversarial method and adapter."""
    from .vocab import SOURCE_KIND

    data, model, train = values.get("data", {}), values.get("model", {}), values.get("train", {})
    source = data.get("source")
    return {source, SOURCE_KIND.get(source, ""), model.get("arch"), train.get("scheduler"),
            values.get("normalize", {}).get("method"), train.get("adversarial", {}).get("method"),
            model.get("adapter", {}).get("kind")}
