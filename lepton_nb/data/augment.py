"""Augmentation: the recipe's ops applied with independent random parameters per sample.

Each op is an `AugmentOp` in `OPS`, keyed by the name the recipe lists (`lepton_nb.recipe.AUGMENT_OPS` holds its
parameters' ranges and help): split as torchvision v2 splits a transform, ``params`` draws every sample's
random parameters from the run's generator and ``apply`` applies them to the batch. Two paths use them:

* `BatchAugment` works on whole batches of in-memory tensors (the fast path). torchvision's v2 transforms draw
  one set of parameters per call, so on a batch tensor every sample would get the same crop or rotation, and
  calling them sample by sample costs ~0.1 ms each (a second per MNIST epoch); the per-sample-parameter batch
  versions below are written with torch primitives (``affine_grid``/``grid_sample``, masks, gathers) for that.
* `torchvision_pipeline` maps the same ops onto torchvision.transforms.v2 (``v2``) for the per-sample
  DataLoader path (image folders too large for memory).
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from ..recipe import DATA_KINDS
from .text import PAD, UNK

Op = dict[str, Any]
Params = dict[str, Any]


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (hi - lo) + lo


@dataclass(frozen=True)
class AugmentOp:
    """``params(x, g, settings, pixels)`` → this batch's random parameters (``settings``: the recipe's values of
    the op; ``pixels``: images in [0, 1]); ``apply(x, params)`` → the augmented batch; ``v2(settings, size)`` →
    the torchvision v2 transform of the per-sample path (None: in-memory batches only)."""

    params: Callable[[torch.Tensor, torch.Generator, Op, bool], Params]
    apply: Callable[[torch.Tensor, Params], torch.Tensor]
    v2: Callable[[Op, int], Any] | None = None


# --------------------------------------------------------------------------------------
# Images: float batches [N, C, H, W] with values in [0, 1]


def crop_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    padding = int(s["padding"])
    if padding <= 0:
        return {"padding": 0}
    n = len(x)
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=g).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=g).to(x.device)
    return {"padding": padding, "dy": dy, "dx": dx}


def crop(x: torch.Tensor, p: Params) -> torch.Tensor:
    padding = p["padding"]
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    rows = p["dy"][:, None] + torch.arange(h, device=x.device)
    cols = p["dx"][:, None] + torch.arange(w, device=x.device)
    ni = torch.arange(n, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[ni, ci, rows[:, None, :, None], cols[:, None, None, :]]


def coin_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    """Which samples the op changes: each with probability ``p``."""
    return {"mask": (torch.rand(len(x), generator=g) < s["p"]).to(x.device).view(-1, *([1] * (x.dim() - 1)))}


def flipper(dim: int) -> Callable[[torch.Tensor, Params], torch.Tensor]:
    def apply(x: torch.Tensor, p: Params) -> torch.Tensor:
        return torch.where(p["mask"], x.flip(dim), x)
    return apply


def affine_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    """Rotation, translation, scale and shear per sample, as the inverse map of output to input coordinates."""
    degrees, translate = s.get("degrees", 0.0), s.get("translate", 0.0)
    scale, shear = s.get("scale", 0.0), s.get("shear", 0.0)
    n = len(x)
    angle = torch.deg2rad(_uniform(n, -degrees, degrees, g))
    tx, ty = _uniform(n, -translate, translate, g) * 2, _uniform(n, -translate, translate, g) * 2
    k = _uniform(n, 1 - scale, 1 + scale, g)
    sh = torch.deg2rad(_uniform(n, -shear, shear, g))
    cos, sin = torch.cos(angle), torch.sin(angle)
    forward = torch.zeros(n, 3, 3)
    # forward = translate @ rotate @ shear_x @ scale, in normalized [-1, 1] coordinates
    forward[:, 0, 0] = k * cos
    forward[:, 0, 1] = k * (cos * torch.tan(sh) - sin)
    forward[:, 1, 0] = k * sin
    forward[:, 1, 1] = k * (sin * torch.tan(sh) + cos)
    forward[:, 0, 2], forward[:, 1, 2], forward[:, 2, 2] = tx, ty, 1.0
    return {"theta": torch.linalg.inv(forward)[:, :2, :].to(x.device, x.dtype)}  # output coords -> input coords


def warp(x: torch.Tensor, p: Params) -> torch.Tensor:
    """Resample once (bilinear, zero fill)."""
    grid = F.affine_grid(p["theta"], list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    return x.mean(1, keepdim=True)


def jitter_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    n, out = len(x), {}
    for name in ("brightness", "contrast", "saturation"):
        amount = s.get(name, 0.0)
        if amount > 0 and (name != "saturation" or x.shape[1] == 3):
            out[name] = _uniform(n, max(0.0, 1 - amount), 1 + amount, g).to(x.device).view(n, 1, 1, 1)
    return out


def jitter(x: torch.Tensor, p: Params) -> torch.Tensor:
    if "brightness" in p:
        x = x * p["brightness"]
    if "contrast" in p:
        mean = _gray(x).mean((1, 2, 3), keepdim=True)
        x = (x - mean) * p["contrast"] + mean
    if "saturation" in p:
        gray = _gray(x)
        x = (x - gray) * p["saturation"] + gray
    return x.clamp(0.0, 1.0)


def noise_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    return {"noise": torch.randn(x.shape, generator=g).to(x.device, x.dtype) * s["std"], "clip": pixels}


def add_noise(x: torch.Tensor, p: Params) -> torch.Tensor:
    noisy = x + p["noise"]
    return noisy.clamp(0.0, 1.0) if p["clip"] else noisy


def erase_params(x: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    n, _, h, w = x.shape
    area = _uniform(n, s.get("scale_min", 0.02), s.get("scale_max", 0.2), g) * h * w
    ratio = torch.exp(_uniform(n, math.log(0.3), math.log(3.3), g))
    eh = torch.sqrt(area * ratio).round().clamp(1, h)
    ew = torch.sqrt(area / ratio).round().clamp(1, w)
    top = (torch.rand(n, generator=g) * (h - eh + 1)).floor()
    left = (torch.rand(n, generator=g) * (w - ew + 1)).floor()
    chosen = torch.rand(n, generator=g) < s.get("p", 0.5)
    rows = torch.arange(h)[None, :]
    cols = torch.arange(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
    return {"mask": (in_rows[:, :, None] & in_cols[:, None, :] & chosen[:, None, None]).to(x.device)}


def erase(x: torch.Tensor, p: Params) -> torch.Tensor:
    return x.masked_fill(p["mask"][:, None], 0.0)


# --------------------------------------------------------------------------------------
# Text: token id batches [N, L]


def word_params(ids: torch.Tensor, g: torch.Generator, s: Op, pixels: bool) -> Params:
    """Which positions the op touches: each with probability ``p``."""
    return {"hit": torch.rand(ids.shape, generator=g).to(ids.device) < s["p"]}


def drop_words(ids: torch.Tensor, p: Params) -> torch.Tensor:
    return torch.where(p["hit"] & (ids != PAD), torch.full_like(ids, UNK), ids)


def swap_words(ids: torch.Tensor, p: Params) -> torch.Tensor:
    """Swap non-overlapping pairs of neighbouring words."""
    nxt = ids.roll(-1, 1)
    valid = (ids != PAD) & (nxt != PAD)
    valid[:, -1] = False
    swap = p["hit"] & valid
    swap &= ~swap.roll(1, 1)  # a word swapped with its left neighbour does not swap again
    out = torch.where(swap, nxt, ids)
    return torch.where(swap.roll(1, 1), ids.roll(1, 1), out)


# --------------------------------------------------------------------------------------
# torchvision v2 equivalents (per-sample path)


def _v2() -> Any:
    from torchvision.transforms import v2

    return v2


def _v2_affine(s: Op, size: int) -> Any:
    t, k = s["translate"], s["scale"]
    return _v2().RandomAffine(s["degrees"], translate=(t, t), scale=(1 - k, 1 + k), shear=s["shear"] or None)


OPS: dict[str, AugmentOp] = {
    "random_crop": AugmentOp(crop_params, crop, lambda s, size: _v2().RandomCrop(size, padding=int(s["padding"]))),
    "horizontal_flip": AugmentOp(coin_params, flipper(-1), lambda s, size: _v2().RandomHorizontalFlip(s["p"])),
    "vertical_flip": AugmentOp(coin_params, flipper(-2), lambda s, size: _v2().RandomVerticalFlip(s["p"])),
    "rotation": AugmentOp(affine_params, warp, lambda s, size: _v2().RandomRotation(s["degrees"])),
    "affine": AugmentOp(affine_params, warp, _v2_affine),
    "color_jitter": AugmentOp(jitter_params, jitter,
                              lambda s, size: _v2().ColorJitter(s["brightness"], s["contrast"], s["saturation"])),
    "gaussian_noise": AugmentOp(noise_params, add_noise, lambda s, size: _v2().GaussianNoise(sigma=s["std"])),
    "random_erasing": AugmentOp(erase_params, erase, lambda s, size: _v2().RandomErasing(
        s["p"], scale=(s["scale_min"], s["scale_max"]), value=0)),
    "word_dropout": AugmentOp(word_params, drop_words),
    "word_swap": AugmentOp(word_params, swap_words),
}


def augment_with(name: str, x: torch.Tensor, g: torch.Generator, pixels: bool = True, **settings: Any) -> torch.Tensor:
    """``x`` augmented by the op ``name`` with ``settings`` (one op; `BatchAugment` applies a recipe's list)."""
    op = OPS[name]
    return op.apply(x, op.params(x, g, settings, pixels))


class BatchAugment:
    """Applies the recipe's ops in order to a batch, with independent parameters per sample."""

    def __init__(self, ops: list[Op], kind: str):
        self.ops = [dict(op) for op in ops]
        self.kind = kind
        self.pixels = DATA_KINDS[kind].pixels  # noise on images stays in [0, 1]

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        for op in self.ops:
            spec = OPS[op["op"]]  # the recipe validated the names
            x = spec.apply(x, spec.params(x, g, op, self.pixels))
        return x


def torchvision_pipeline(ops: list[Op], image_size: int) -> Any:
    """The same image ops as torchvision.transforms.v2, for per-sample (DataLoader) pipelines."""
    steps = []
    for op in ops:
        build = OPS[op["op"]].v2
        if build is not None:  # text ops have none
            steps.append(build(op, image_size))
    return _v2().Compose(steps)
