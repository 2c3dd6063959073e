"""Defaults that follow another choice: each architecture's own settings, and what an adapter implies.

A field listed under an option (an architecture for ``model.arch``, an adapter kind for
``model.adapter.kind``) takes that option's value unless the recipe sets it:

* `Recipe.from_dict` fills the listed keys a recipe leaves out from its chosen options;
* `Recipe.updated` refills them when the option changes, except the keys the same change sets;
* the studio's form refills the fields the user has not edited when the option changes, and marks
  those that follow it ("32 (default for text_transformer)").

A saved recipe records the values used, so it runs again exactly as it ran. The tables are plain data
keyed by option, so each architecture's row can sit beside its registry entry.

The text architectures were measured in ``benchmarks/bench_text.py`` (5-fold CV on the IMDb sentences and
on the bundled reviews); they all list the same keys, so switching between them never leaves one
architecture's setting on another. LoRA means what ``peft`` means: the base model is frozen, the adapters
(and a new head) train; a recipe that wants the base to learn too says ``model.freeze: "none"``.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable
from typing import Any

from .sections import SECTIONS

_TEXT_TRAIN = {"train.batch_size": 32, "train.weight_decay": 1e-3}

ARCH_DEFAULTS: dict[str, dict[str, Any]] = {
    # the sentiment preset's settings (chosen on folds of other seeds than the benchmark's)
    "text_bow": {**_TEXT_TRAIN, "model.embed_dim": 64, "model.buckets": 0, "model.dropout": 0.5,
                 "train.lr": 1e-2, "train.epochs": 30, "train.scheduler": "cosine"},
    "text_cnn": {**_TEXT_TRAIN, "model.embed_dim": 64, "model.width": 64, "model.dropout": 0.5,
                 "train.lr": 3e-3, "train.epochs": 15, "train.scheduler": "one_cycle"},
    "text_bilstm": {**_TEXT_TRAIN, "model.embed_dim": 64, "model.hidden": 64, "model.dropout": 0.3,
                    "train.lr": 3e-3, "train.epochs": 15, "train.scheduler": "one_cycle"},
    "text_transformer": {**_TEXT_TRAIN, "model.embed_dim": 64, "model.heads": 4, "model.depth": 2,
                         "model.hidden": 128, "model.dropout": 0.2, "model.pooling": "mean",
                         "train.lr": 3e-3, "train.epochs": 20, "train.scheduler": "one_cycle",
                         "train.weight_decay": 1e-2},
}

ADAPTER_DEFAULTS: dict[str, dict[str, Any]] = {
    "lora": {"model.freeze": "features"},  # peft's LoRA: the base is frozen, adapters and the head train
}

# the option field → its options → the defaults each implies
DEPENDENT_DEFAULTS: dict[str, dict[str, dict[str, Any]]] = {
    "model.arch": ARCH_DEFAULTS,
    "model.adapter.kind": ADAPTER_DEFAULTS,
}


def plain_default(key: str) -> Any:
    """The field's own default (what a recipe gets when no option lists the key)."""
    section, *rest = key.split(".")
    cls: Any = SECTIONS[section]
    value: Any = None
    for part in rest:
        f = next(f for f in dataclasses.fields(cls) if f.name == part)
        if f.default is not dataclasses.MISSING:
            value = f.default
        elif f.default_factory is not dataclasses.MISSING:
            value = f.default_factory()
        cls = type(value)
    return copy.deepcopy(value)


def dependent_keys(option: str, *values: Any) -> set[str]:
    """The keys the given values of ``option`` set (the union over them)."""
    table = DEPENDENT_DEFAULTS[option]
    return {k for v in values if isinstance(v, str) for k in table.get(v, {})}


def _get(data: Any, key: str) -> tuple[bool, Any]:
    node = data
    for part in key.split("."):
        if not isinstance(node, dict) or part not in node:
            return False, None
        node = node[part]
    return True, node


def option_value(data: Any, option: str) -> Any:
    """The option's value in a recipe dict (its plain default when the dict leaves it out)."""
    found, value = _get(data, option)
    return value if found else plain_default(option)


def fill_dependent_defaults(data: Any) -> Any:
    """A copy of a recipe dict with the keys it leaves out taken from its options' defaults.

    Anything that is not a dict where a section should be is left alone: parsing reports it.
    """
    if not isinstance(data, dict):
        return data
    out = copy.deepcopy(data)
    for option, table in DEPENDENT_DEFAULTS.items():
        value = option_value(out, option)
        if not isinstance(value, str):
            continue
        for key, default in table.get(value, {}).items():
            node = out
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {}) if isinstance(node, dict) else None
            if isinstance(node, dict) and leaf not in node:
                node[leaf] = copy.deepcopy(default)
    return out


def forget_dependent(before: dict[str, Any], after: dict[str, Any], kept: Iterable[str]) -> dict[str, Any]:
    """``after`` without the keys an option that changed from ``before`` implies, except those in ``kept``
    (or under a key in ``kept``), so that `fill_dependent_defaults` takes them from the new option."""
    kept = list(kept)
    out = copy.deepcopy(after)
    for option in DEPENDENT_DEFAULTS:
        old, new = option_value(before, option), option_value(after, option)
        if old == new:
            continue
        for key in dependent_keys(option, old, new):
            if any(key == k or key.startswith(k + ".") for k in kept):
                continue
            *parents, leaf = key.split(".")
            node: Any = out
            for part in parents:
                node = node.get(part) if isinstance(node, dict) else None
            if isinstance(node, dict):
                node.pop(leaf, None)
    return out


def following(data: Any, key: str) -> str | None:
    """The option whose default ``key`` holds in a recipe dict (e.g. ``"text_transformer"``), or None."""
    found, value = _get(data, key)
    if not found:
        return None
    for option, table in DEPENDENT_DEFAULTS.items():
        choice = option_value(data, option)
        if isinstance(choice, str) and key in table.get(choice, {}) and table[choice][key] == value:
            return choice
    return None
