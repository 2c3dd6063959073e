"""A numeric parameter with its range and help: augmentation ops and attribution methods share it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Param:
    default: float
    min: float
    max: float
    help: str
    integer: bool = False
