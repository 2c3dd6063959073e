"""Parsing a recipe dict into dataclasses, collecting every problem as ``field: value — allowed``."""

from __future__ import annotations

import dataclasses
import difflib
import json
import math
import typing
from typing import Any

from ..errors import Problem
from .ops import AUGMENT_OPS


def did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}allowed: {', '.join(known)}"


def key_text(key: Any) -> str:
    """A key as it appears in a field name: quoted when it would not read as one (empty, spaces, controls)."""
    text = str(key)
    if text and text.strip() == text and text.isprintable() and "." not in text and len(text) <= 40:
        return text
    quoted = json.dumps(text)
    return quoted if len(quoted) <= 40 else quoted[:36] + '..."'



def unknown_key_hint(key: str, obj: Any) -> str:
    known = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    return did_you_mean(key, known)


def _range_text(meta: dict[str, Any], kind: str) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        return f"allowed: {kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"allowed: {kind} ≥ {lo:g}"
    if hi is not None:
        return f"allowed: {kind} ≤ {hi:g}"
    return f"allowed: {kind}"


def _check_number(value: Any, typ: type, meta: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    kind = "a whole number" if typ is int else "a number"
    original = value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(where, value, _range_text(meta, kind)))
        return None
    if typ is int:
        if isinstance(value, float):
            if not value.is_integer():
                problems.append(Problem(where, value, _range_text(meta, kind)))
                return None
            value = int(value)
    else:
        try:
            value = float(value)
        except OverflowError:  # an integer too large for a float (hundreds of digits)
            problems.append(Problem(where, original, _range_text(meta, "a finite number")))
            return None
        if not math.isfinite(value):
            problems.append(Problem(where, value, _range_text(meta, "a finite number")))
            return None
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        problems.append(Problem(where, original, _range_text(meta, kind)))
        return None
    return value


def _check_value(value: Any, typ: Any, meta: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    origin = typing.get_origin(typ)
    if isinstance(typ, type) and dataclasses.is_dataclass(typ):
        return parse_dataclass(typ, value, where, problems)
    if typ is bool:
        if not isinstance(value, bool):
            problems.append(Problem(where, value, "allowed: true or false"))
            return None
        return value
    if typ in (int, float):
        return _check_number(value, typ, meta, where, problems)
    if typ is str:
        if not isinstance(value, str):
            allowed = ("allowed: " + ", ".join(meta["choices"])) if meta.get("choices") else "allowed: text"
            problems.append(Problem(where, value, allowed))
            return None
        choices = meta.get("choices")
        if choices and value not in choices:
            close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(where, value, f"{hint}allowed: {', '.join(choices)}"))
            return None
        return value
    if origin is dict:  # free-form mappings (a search space) are checked by their section's own rules
        if not isinstance(value, dict) or not all(isinstance(k, str) for k in value):
            problems.append(Problem(where, value, "allowed: an object with text keys"))
            return None
        return value
    if origin is list:
        (item_type,) = typing.get_args(typ)
        if not isinstance(value, list):
            problems.append(Problem(where, value, f"allowed: a list of {_type_word(item_type)}"))
            return None
        if typing.get_origin(item_type) is dict:
            return [_check_op(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]
        out = []
        item_meta = {"choices": meta.get("item_choices")}
        for i, item in enumerate(value):
            out.append(_check_value(item, item_type, item_meta, f"{where}[{i}]", problems))
        return out
    raise TypeError(f"unsupported recipe field type {typ!r}")  # a bug in this module, not user input


def _type_word(typ: Any) -> str:
    return {int: "whole numbers", float: "numbers", str: "names", bool: "true/false"}.get(typ, "entries")


def _check_op(item: Any, where: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(where, item, "allowed: an object such as {\"op\": \"rotation\", \"degrees\": 10}"))
        return None
    name = item.get("op")
    if not isinstance(name, str) or name not in AUGMENT_OPS:
        close = difflib.get_close_matches(name, list(AUGMENT_OPS), n=1, cutoff=0.6) if isinstance(name, str) else []
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(Problem(f"{where}.op", name, f"{hint}allowed: {', '.join(AUGMENT_OPS)}"))
        return None
    params = AUGMENT_OPS[name].params
    out: dict[str, Any] = {"op": name}
    for key, value in item.items():
        if key == "op":
            continue
        if key not in params:
            problems.append(Problem(f"{where}.{key_text(key)}", value,
                                    did_you_mean(str(key), list(params)).replace("allowed:", f"{name} takes:")))
            continue
        p = params[key]
        meta = {"min": p.min, "max": p.max}
        checked = _check_number(value, int if p.integer else float, meta, f"{where}.{key}", problems)
        if checked is not None:
            out[key] = checked
    for key, p in params.items():
        out.setdefault(key, int(p.default) if p.integer else p.default)
    return out


def parse_dataclass(cls: type, data: Any, prefix: str, problems: list[Problem]) -> Any:
    where = prefix or "recipe"
    if not isinstance(data, dict):
        problems.append(Problem(where, data, "allowed: an object with keys " +
                                ", ".join(f.name for f in dataclasses.fields(cls))))
        return None
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            name = f"{prefix}.{key_text(key)}" if prefix else key_text(key)
            problems.append(Problem(name, data[key], did_you_mean(str(key), known)))
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        name = f"{prefix}.{f.name}" if prefix else f.name
        before = len(problems)
        value = _check_value(data[f.name], hints[f.name], dict(f.metadata), name, problems)
        if len(problems) == before:
            kwargs[f.name] = value
    return cls(**kwargs)
