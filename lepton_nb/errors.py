"""One error hierarchy: every error lepton_nb raises for bad input names the field, the value and what is allowed.

``LeptonError`` is the base (the CLI's last line of defence catches it); below it ``RecipeError``
(every problem of a recipe), ``DataError``, ``ModelError``, ``CheckpointError``, ``UsageError``.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
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
        shown = repr(value) if not isinstance(value, (int, float)) or abs(value) < 10**100 else "<a huge number>"
        shown = shown if len(shown) <= 200 else shown[:80] + "..." + shown[-100:]  # the end names the file
        super().__init__(f"{field}: {shown} — {self.message}")


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


def user_path(value: Any, field: str, error: type[FieldError] | None = None) -> Path:
    """A file or folder path a user gave, refused (a `UsageError` naming ``field``) when no file system could
    hold it: not text, a NUL character, a name over 255 bytes or a path over 4,096."""
    error = error or UsageError
    if not isinstance(value, (str, os.PathLike)) or not isinstance(os.fspath(value), str):
        raise error(field, value, "allowed: a file or folder path")
    text = os.fspath(value)
    if "\x00" in text:
        raise error(field, text, "contains a NUL character; allowed: a file or folder path")
    if len(text.encode("utf-8", "surrogateescape")) > 4096 or any(
            len(part.encode("utf-8", "surrogateescape")) > 255 for part in text.split(os.sep)):
        raise error(field, text, "is too long for a file system; allowed: names of at most 255 bytes, "
                                 "paths of at most 4,096")
    return Path(text).expanduser()


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

    def __reduce__(self) -> tuple[Any, ...]:  # pickled (from the worker process) with its problems, not its text
        return (type(self), (self.problems,))


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
