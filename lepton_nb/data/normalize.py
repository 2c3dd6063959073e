"""Normalization statistics, computed on the train split only, and their application."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass

import torch

from ..errors import DataError
from ..recipe import NormalizeSection


@dataclass
class NormStats:
    """Per-channel (images) or per-feature (tables) scaling: ``x_norm = (x - shift) / scale``.

    ``mean``/``std`` (and ``min``/``max``) are what the train split measured, kept for display
    and for the run folder, whatever the method.
    """

    method: str
    shift: list[float]
    scale: list[float]
    mean: list[float]
    std: list[float]
    min: list[float]
    max: list[float]
    count: int  # samples the statistics were computed on

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> NormStats:
        return cls(**d)

    @classmethod
    def identity(cls, channels: int = 0) -> NormStats:
        zeros, ones = [0.0] * channels, [1.0] * channels
        return cls("none", zeros, ones, zeros, ones, zeros, ones, 0)

    def _shift_scale(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        shape = (1, -1) + (1,) * (x.dim() - 2)
        return (torch.tensor(self.shift, dtype=x.dtype, device=x.device).view(shape),
                torch.tensor(self.scale, dtype=x.dtype, device=x.device).view(shape))

    def apply(self, x: torch.Tensor) -> torch.Tensor:
        """Normalize a float batch [N, C, ...] (new tensor)."""
        if self.method == "none" or not self.shift:
            return x
        shift, scale = self._shift_scale(x)
        return (x - shift) / scale

    def invert(self, x: torch.Tensor) -> torch.Tensor:
        """Undo `apply` (for showing normalized samples)."""
        if self.method == "none" or not self.shift:
            return x
        shift, scale = self._shift_scale(x)
        return x * scale + shift


def channel_stats(x: torch.Tensor, chunk: int = 4096) -> tuple[list[float], list[float], list[float], list[float]]:
    """Mean, std, min and max per channel (dim 1) in float64, chunked to bound memory."""
    channels = x.shape[1]
    total = torch.zeros(channels, dtype=torch.float64)
    total_sq = torch.zeros(channels, dtype=torch.float64)
    lo = torch.full((channels,), float("inf"), dtype=torch.float64)
    hi = torch.full((channels,), float("-inf"), dtype=torch.float64)
    count = 0
    for start in range(0, len(x), chunk):
        part = x[start:start + chunk].to(torch.float64)
        part = part.transpose(0, 1).reshape(channels, -1)
        total += part.sum(1)
        total_sq += (part * part).sum(1)
        lo = torch.minimum(lo, part.min(1).values)
        hi = torch.maximum(hi, part.max(1).values)
        count += part.shape[1]
    mean = total / count
    std = (total_sq / count - mean * mean).clamp_min(0).sqrt()
    return mean.tolist(), std.tolist(), lo.tolist(), hi.tolist()


def compute_stats(x_train: torch.Tensor, cfg: NormalizeSection, value_scale: float = 1.0) -> NormStats:
    """Statistics of the train split only; ``value_scale`` converts raw storage (uint8 → [0, 1])."""
    if len(x_train) == 0:
        raise DataError("data.val_fraction", None, "the train split is empty; nothing to compute "
                        "normalization statistics on")
    mean, std, lo, hi = channel_stats(x_train)
    mean, std = [m / value_scale for m in mean], [s / value_scale for s in std]
    lo, hi = [v / value_scale for v in lo], [v / value_scale for v in hi]
    shift, scale = NORMALIZERS[cfg.method](Measured(mean, std, lo, hi), cfg)
    return NormStats(cfg.method, shift, scale, mean, std, lo, hi, len(x_train))


@dataclass(frozen=True)
class Measured:
    """Per-channel statistics of the train split, in [0, 1] units for images."""

    mean: list[float]
    std: list[float]
    lo: list[float]
    hi: list[float]


def _explicit(m: Measured, cfg: NormalizeSection) -> tuple[list[float], list[float]]:
    channels = len(m.mean)
    if len(cfg.mean) not in (1, channels):
        raise DataError("normalize.mean", cfg.mean, f"has {len(cfg.mean)} values; allowed: 1 or "
                        f"{channels} (one per channel/feature of this data)")
    return (list(cfg.mean) * (channels if len(cfg.mean) == 1 else 1),
            list(cfg.std) * (channels if len(cfg.std) == 1 else 1))


# normalize.method → (shift, scale) per channel, from the train split's statistics
NORMALIZERS: dict[str, Callable[[Measured, NormalizeSection], tuple[list[float], list[float]]]] = {
    "standardize": lambda m, cfg: (m.mean, [s if s > 1e-8 else 1.0 for s in m.std]),
    "minmax": lambda m, cfg: (m.lo, [(b - a) if b - a > 1e-8 else 1.0 for a, b in zip(m.lo, m.hi)]),
    "explicit": _explicit,
    "none": lambda m, cfg: ([], []),
}


def folder_stats(paths: list, size: int, cfg: NormalizeSection, seed: int) -> NormStats:
    """Statistics of a lazily loaded image folder, from a seeded sample of up to 2,000 train images."""
    import numpy as np

    from .sources import load_images

    rng = np.random.default_rng(seed)
    sample = rng.choice(len(paths), min(2000, len(paths)), replace=False)
    return compute_stats(load_images([paths[i] for i in sample], size), cfg, 255.0)
