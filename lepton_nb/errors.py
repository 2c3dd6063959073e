"""Errors the project raises for bad input: each names the field, the value and what is allowed."""

from __future__ import annotations

from typing import Any


class LeptonError(Exception):
    """Base class of every error lepton_nb raises on purpose (as opposed to bugs)."""


class FieldError(LeptonError, ValueError):
    """Bad input reported as ``field: value — what is allowed``."""

    def __init__(self, field: str, value: Any, message: str):
        self.field = field
        self.value = value
        self.message = message
        super().__init__(f"{field}: {value!r} — {message}")


class DataError(FieldError):
    """Data that cannot be loaded or used: missing files, malformed rows, too few samples."""


class ModelError(LeptonError, ValueError):
    """A model that does not fit the data or the requested operation."""


class UsageError(FieldError):
    """A bad argument to a function or command: names the argument, the value and what is allowed."""
