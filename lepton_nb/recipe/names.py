"""Run names: they name run folders, so they are checked when the recipe is validated, not when a folder is made."""

from __future__ import annotations

import re
from typing import Any

from ..errors import Problem

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
NAME_MAX = 100  # leaves room for the date suffix within a file system's 255 bytes
NAME_ALLOWED = (f"allowed: 1 to {NAME_MAX} letters, digits, '.', '_' or '-', starting with a letter or digit "
                "(it names the run folder)")


def name_problem(name: Any, field: str = "name") -> Problem | None:
    """The problem with a run name (None when it is usable as a folder name on every system).

    Refused: path separators and ``..`` (a folder outside ``--out``), NUL and other control
    characters, non-ASCII letters, and names too long for a file name once the date is appended.
    """
    if isinstance(name, str) and NAME_PATTERN.fullmatch(name) and len(name) <= NAME_MAX:
        return None
    return Problem(field, name, NAME_ALLOWED)


def default_name(source: str, arch: str) -> str:
    """The name a recipe gets from its data and model: the preset's (``digits-cnn``) where one trains this model
    on this data, else ``<source>-<arch>`` (``csv-tabular-mlp``), so a run is never named after other data."""
    from .presets import PRESETS

    for preset in PRESETS.values():
        if preset["data"]["source"] == source and preset["model"]["arch"] == arch:
            return str(preset["name"])
    return f"{source}-{arch}".replace("_", "-")


def made_up_names() -> set[str]:
    """Names no user chose: the recipe's default and the presets' (a studio renames these with the data)."""
    from .presets import PRESETS

    return {"run", *(p["name"] for p in PRESETS.values())}
