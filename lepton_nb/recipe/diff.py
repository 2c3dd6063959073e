"""What differs between recipes, in a few words: legends and tables name runs by what was changed.

Two runs of one recipe with lr 0.005 and 0.0005 read ``lr=0.005`` and ``lr=0.0005`` — not two timestamps.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Sequence
from typing import Any

from .core import Recipe
from .fields import describe_fields

IGNORED = ("name",)


def _inert(section: Any, prefix: str = "") -> tuple[str, ...]:
    out: list[str] = []
    for info in describe_fields(section):
        dotted = f"{prefix}{info['name']}"
        if not info.get("affects_training", True):
            out.append(dotted)
        elif dataclasses.is_dataclass(info["default"]):
            out.extend(_inert(info["default"], dotted + "."))
    return tuple(out)


# the fields (and whole sections) that cannot change the weights or the curves: how a run is named, evaluated,
# explained or searched (their metadata says ``affects_training=False``)
NO_EFFECT_ON_TRAINING = _inert(Recipe)


def flatten(data: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    """``{"train": {"lr": 0.1}}`` → ``{"train.lr": 0.1}`` (lists stay whole values)."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        dotted = f"{prefix}{key}"
        if isinstance(value, dict):
            out.update(flatten(value, dotted + "."))
        else:
            out[dotted] = value
    return out


def _short(keys: list[str]) -> dict[str, str]:
    """The last part of each dotted key, or the whole key where that part is ambiguous."""
    last = [k.rsplit(".", 1)[-1] for k in keys]
    return {k: (s if last.count(s) == 1 else k) for k, s in zip(keys, last)}


def _show(value: Any, width: int = 24) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, (list, dict)):
        text = json.dumps(value, separators=(",", ":"))
        return text if len(text) <= width else f"{text[:width - 3]}…"
    return str(value)


def differences(recipes: Sequence[Recipe], limit: int = 3, ignore: Sequence[str] = IGNORED) -> list[str]:
    """One label per recipe naming the settings in which the recipes differ (``"lr=0.005, epochs=3"``);
    ``""`` for every recipe when they all agree. ``ignore``: fields, or whole sections, left out
    (`NO_EFFECT_ON_TRAINING` for labels of curves)."""
    flat = [flatten(r.to_dict()) for r in recipes]
    keys = [k for k in dict.fromkeys(k for f in flat for k in f)  # the recipe's order
            if not any(k == i or k.startswith(i + ".") for i in ignore)]
    differing = [k for k in keys if len({json.dumps(f.get(k), sort_keys=True, default=str) for f in flat}) > 1]
    short = _short(differing)
    labels = []
    for f in flat:
        parts = [f"{short[k]}={_show(f.get(k))}" for k in differing[:limit]]
        if len(differing) > limit:
            parts.append(f"+{len(differing) - limit} more")
        labels.append(", ".join(parts))
    return labels


def changes(base: dict[str, Any], other: dict[str, Any]) -> list[tuple[str, Any, Any]]:
    """What ``other`` changed from ``base`` (two recipes as dicts): ``(dotted key, base value, other value)``
    for every setting that differs, in the recipe's order; the run's name is not a setting."""
    a, b = flatten(base), flatten(other)
    keys = [k for k in dict.fromkeys([*a, *b]) if k not in IGNORED]
    same = json.dumps
    return [(k, a.get(k), b.get(k)) for k in keys
            if same(a.get(k), sort_keys=True, default=str) != same(b.get(k), sort_keys=True, default=str)]


def show(value: Any, width: int = 24) -> str:
    """A setting's value in about ``width`` characters (longer lists and dicts are cut)."""
    return _show(value, width)


__all__ = ["NO_EFFECT_ON_TRAINING", "changes", "differences", "flatten", "show"]
