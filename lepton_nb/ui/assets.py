"""The front end: its files in widgets/ (shipped inside the wheel as lepton_nb/widgets), and where it runs."""

from __future__ import annotations

import os
from pathlib import Path

_HERE = Path(__file__).resolve().parent


def asset(name: str) -> Path:
    """Path of a front-end file: inside the installed package, or the repository's widgets/ folder."""
    for folder in (_HERE.parent / "widgets", _HERE.parents[1] / "widgets"):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"lepton_nb front-end file {name!r} is missing; reinstall lepton_nb")


def in_dashboard() -> bool:
    """True in a kernel that Voilà started for a dashboard page (it sets VOILA_* variables there)."""
    return any(k in os.environ for k in ("VOILA_KERNEL_ID", "VOILA_BASE_URL", "VOILA_SERVER_URL"))
