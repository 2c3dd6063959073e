"""One error hierarchy: every error lepton_nb raises for bad input names the field, the value and what is allowed.

``LeptonError`` is the base (the CLI's last line of defence catches it); below it ``RecipeError``
(every problem of a recipe), ``DataError``, ``ModelError``, ``CheckpointError``, ``UsageError``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


class LeptonError(Exception):
    """Base class of every error lepton_nb raises on purpose (as opposed to bugs)."""


_MISSING = object()


class FieldError(LeptonError, ValueError):
    """Bad input reported as ``field: value — what is allowed``.

    Built from its parts, ``FieldError("train.lr", -1, "allowed: a number > 0")``, or from one
    message already written that way (its ``field`` is the text before the first colon).
    """

    def __init__(self, field: str, value: Any = _MISSING, message: str | None = None):
        if value is _MISSING and message is None:
            text = str(field)
            self.field, self.value, self.message = text.split(":", 1)[0], None, text
            super().__init__(text)
            return
        self.field = field
        self.value = value
        self.message = message or ""
        super().__init__(f"{field}: {value!r} — {self.message}")


class DataError(FieldError):
    """Data that cannot be loaded or used: missing files, malformed rows, too few samples."""


class ModelError(FieldError):
    """A model that does not fit the data or the requested operation."""


class UsageError(FieldError):
    """A bad argument to a function or command: names the argument, the value and what is allowed."""


class CheckpointError(FieldError):
    """A checkpoint or run folder file that cannot be read or does not fit."""


class DeviceError(FieldError):
    """A device that is not available here (e.g. CUDA asked for on a CPU-only machine)."""


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is, what it was, what would be accepted."""

    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.value)} — {self.allowed}"


class RecipeError(LeptonError, ValueError):
    """A recipe that cannot be used; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = "1 problem in the recipe" if n == 1 else f"{n} problems in the recipe"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


def _show(value: Any) -> str:
    """A short rendering of a bad value: at most 60 characters, whatever the value (huge or deeply nested);
    a longer one keeps its start and its end."""
    try:
        text = json.dumps(value) if _jsonable(value) else repr(value)
    except (ValueError, RecursionError):  # an integer of thousands of digits, a structure nested too deep
        text = f"<a {type(value).__name__} too large to show>"
    return text if len(text) <= 60 else text[:24] + "..." + text[-33:]  # the end of a long path names the file


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError, RecursionError):
        return False
    return True
