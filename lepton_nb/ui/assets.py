"""Locate the front-end files in widgets/ (shipped inside the wheel as lepton_nb/widgets)."""

from __future__ import annotations

from pathlib import Path

_HERE = Path(__file__).resolve().parent


def asset(name: str) -> Path:
    """Path of a front-end file: inside the installed package, or the repository's widgets/ folder."""
    for folder in (_HERE.parent / "widgets", _HERE.parents[1] / "widgets"):
        path = folder / name
        if path.is_file():
            return path
    raise FileNotFoundError(f"lepton_nb front-end file {name!r} is missing; reinstall lepton_nb")
