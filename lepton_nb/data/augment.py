"""Augmentation: the recipe's ops applied with independent random parameters per sample.

Two implementations of the same ops, chosen by where the data lives:

* `BatchAugment` works on whole batches of in-memory tensors (the fast path). torchvision's v2
  transforms draw one set of parameters per call, so on a batch tensor every sample would get the
  same crop or rotation, and calling them sample by sample costs ~0.1 ms each (a second per MNIST
  epoch); the per-sample-parameter batch versions below are written with torch primitives
  (``affine_grid``/``grid_sample``, masks, gathers) for that reason.
* `torchvision_pipeline` maps the same ops onto torchvision.transforms.v2 for the per-sample
  DataLoader path (image folders too large for memory).
"""

from __future__ import annotations

import math
from typing import Any

import torch
import torch.nn.functional as F

from .text import PAD, UNK

Op = dict[str, Any]


def _uniform(n: int, lo: float, hi: float, g: torch.Generator) -> torch.Tensor:
    return torch.rand(n, generator=g) * (hi - lo) + lo


# --------------------------------------------------------------------------------------
# Images: float batches [N, C, H, W] with values in [0, 1]


def random_crop(x: torch.Tensor, g: torch.Generator, padding: int) -> torch.Tensor:
    if padding <= 0:
        return x
    n, c, h, w = x.shape
    padded = F.pad(x, (padding, padding, padding, padding))
    dy = torch.randint(0, 2 * padding + 1, (n,), generator=g).to(x.device)
    dx = torch.randint(0, 2 * padding + 1, (n,), generator=g).to(x.device)
    rows = dy[:, None] + torch.arange(h, device=x.device)
    cols = dx[:, None] + torch.arange(w, device=x.device)
    ni = torch.arange(n, device=x.device)[:, None, None, None]
    ci = torch.arange(c, device=x.device)[None, :, None, None]
    return padded[ni, ci, rows[:, None, :, None], cols[:, None, None, :]]


def flip(x: torch.Tensor, g: torch.Generator, p: float, dim: int) -> torch.Tensor:
    mask = (torch.rand(len(x), generator=g) < p).to(x.device).view(-1, *([1] * (x.dim() - 1)))
    return torch.where(mask, x.flip(dim), x)


def affine(x: torch.Tensor, g: torch.Generator, degrees: float = 0.0, translate: float = 0.0,
           scale: float = 0.0, shear: float = 0.0) -> torch.Tensor:
    """Rotation, translation, scale and shear per sample, resampled once (bilinear, zero fill)."""
    n = len(x)
    angle = torch.deg2rad(_uniform(n, -degrees, degrees, g))
    tx, ty = _uniform(n, -translate, translate, g) * 2, _uniform(n, -translate, translate, g) * 2
    s = _uniform(n, 1 - scale, 1 + scale, g)
    sh = torch.deg2rad(_uniform(n, -shear, shear, g))
    cos, sin = torch.cos(angle), torch.sin(angle)
    forward = torch.zeros(n, 3, 3)
    # forward = translate @ rotate @ shear_x @ scale, in normalized [-1, 1] coordinates
    forward[:, 0, 0] = s * cos
    forward[:, 0, 1] = s * (cos * torch.tan(sh) - sin)
    forward[:, 1, 0] = s * sin
    forward[:, 1, 1] = s * (sin * torch.tan(sh) + cos)
    forward[:, 0, 2], forward[:, 1, 2], forward[:, 2, 2] = tx, ty, 1.0
    theta = torch.linalg.inv(forward)[:, :2, :].to(x.device, x.dtype)  # output coords -> input coords
    grid = F.affine_grid(theta, list(x.shape), align_corners=False)
    return F.grid_sample(x, grid, mode="bilinear", padding_mode="zeros", align_corners=False)


def _gray(x: torch.Tensor) -> torch.Tensor:
    if x.shape[1] == 3:
        weights = torch.tensor([0.299, 0.587, 0.114], device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
        return (x * weights).sum(1, keepdim=True)
    return x.mean(1, keepdim=True)


def color_jitter(x: torch.Tensor, g: torch.Generator, brightness: float = 0.0, contrast: float = 0.0,
                 saturation: float = 0.0) -> torch.Tensor:
    n = len(x)
    view = (n, 1, 1, 1)
    if brightness > 0:
        x = x * _uniform(n, max(0.0, 1 - brightness), 1 + brightness, g).to(x.device).view(view)
    if contrast > 0:
        mean = _gray(x).mean((1, 2, 3), keepdim=True)
        factor = _uniform(n, max(0.0, 1 - contrast), 1 + contrast, g).to(x.device).view(view)
        x = (x - mean) * factor + mean
    if saturation > 0 and x.shape[1] == 3:
        gray = _gray(x)
        factor = _uniform(n, max(0.0, 1 - saturation), 1 + saturation, g).to(x.device).view(view)
        x = (x - gray) * factor + gray
    return x.clamp(0.0, 1.0)


def gaussian_noise(x: torch.Tensor, g: torch.Generator, std: float, clip: bool) -> torch.Tensor:
    noisy = x + torch.randn(x.shape, generator=g).to(x.device, x.dtype) * std
    return noisy.clamp(0.0, 1.0) if clip else noisy


def random_erasing(x: torch.Tensor, g: torch.Generator, p: float = 0.5, scale_min: float = 0.02,
                   scale_max: float = 0.2) -> torch.Tensor:
    n, _, h, w = x.shape
    area = _uniform(n, scale_min, scale_max, g) * h * w
    ratio = torch.exp(_uniform(n, math.log(0.3), math.log(3.3), g))
    eh = torch.sqrt(area * ratio).round().clamp(1, h)
    ew = torch.sqrt(area / ratio).round().clamp(1, w)
    top = (torch.rand(n, generator=g) * (h - eh + 1)).floor()
    left = (torch.rand(n, generator=g) * (w - ew + 1)).floor()
    apply = torch.rand(n, generator=g) < p
    rows = torch.arange(h)[None, :]
    cols = torch.arange(w)[None, :]
    in_rows = (rows >= top[:, None]) & (rows < (top + eh)[:, None])
    in_cols = (cols >= left[:, None]) & (cols < (left + ew)[:, None])
    mask = (in_rows[:, :, None] & in_cols[:, None, :] & apply[:, None, None]).to(x.device)
    return x.masked_fill(mask[:, None], 0.0)


# --------------------------------------------------------------------------------------
# Text: token id batches [N, L]


def word_dropout(ids: torch.Tensor, g: torch.Generator, p: float) -> torch.Tensor:
    mask = (torch.rand(ids.shape, generator=g).to(ids.device) < p) & (ids != PAD)
    return torch.where(mask, torch.full_like(ids, UNK), ids)


def word_swap(ids: torch.Tensor, g: torch.Generator, p: float) -> torch.Tensor:
    """Swap non-overlapping pairs of neighbouring words."""
    nxt = ids.roll(-1, 1)
    valid = (ids != PAD) & (nxt != PAD)
    valid[:, -1] = False
    swap = (torch.rand(ids.shape, generator=g).to(ids.device) < p) & valid
    swap &= ~swap.roll(1, 1)  # a word swapped with its left neighbour does not swap again
    out = torch.where(swap, nxt, ids)
    return torch.where(swap.roll(1, 1), ids.roll(1, 1), out)


# --------------------------------------------------------------------------------------


class BatchAugment:
    """Applies the recipe's ops in order to a batch, with independent parameters per sample."""

    def __init__(self, ops: list[Op], kind: str):
        self.ops = [dict(op) for op in ops]
        self.kind = kind

    def __bool__(self) -> bool:
        return bool(self.ops)

    def __call__(self, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        for op in self.ops:
            x = self._apply(op, x, g)
        return x

    def _apply(self, op: Op, x: torch.Tensor, g: torch.Generator) -> torch.Tensor:
        name = op["op"]
        params = {k: v for k, v in op.items() if k != "op"}
        if name == "random_crop":
            return random_crop(x, g, int(params["padding"]))
        if name == "horizontal_flip":
            return flip(x, g, params["p"], -1)
        if name == "vertical_flip":
            return flip(x, g, params["p"], -2)
        if name == "rotation":
            return affine(x, g, degrees=params["degrees"])
        if name == "affine":
            return affine(x, g, **params)
        if name == "color_jitter":
            return color_jitter(x, g, **params)
        if name == "gaussian_noise":
            return gaussian_noise(x, g, params["std"], clip=self.kind == "image")
        if name == "random_erasing":
            return random_erasing(x, g, **params)
        if name == "word_dropout":
            return word_dropout(x, g, params["p"])
        if name == "word_swap":
            return word_swap(x, g, params["p"])
        raise ValueError(f"augment op {name!r} is not implemented")  # the recipe validates names first


def torchvision_pipeline(ops: list[Op], image_size: int) -> Any:
    """The same image ops as torchvision.transforms.v2, for per-sample (DataLoader) pipelines."""
    from torchvision.transforms import v2

    steps = []
    for op in ops:
        name = op["op"]
        if name == "random_crop":
            steps.append(v2.RandomCrop(image_size, padding=int(op["padding"])))
        elif name == "horizontal_flip":
            steps.append(v2.RandomHorizontalFlip(op["p"]))
        elif name == "vertical_flip":
            steps.append(v2.RandomVerticalFlip(op["p"]))
        elif name == "rotation":
            steps.append(v2.RandomRotation(op["degrees"]))
        elif name == "affine":
            t, s = op["translate"], op["scale"]
            steps.append(v2.RandomAffine(op["degrees"], translate=(t, t), scale=(1 - s, 1 + s),
                                         shear=op["shear"] or None))
        elif name == "color_jitter":
            steps.append(v2.ColorJitter(op["brightness"], op["contrast"], op["saturation"]))
        elif name == "gaussian_noise":
            steps.append(v2.GaussianNoise(sigma=op["std"]))
        elif name == "random_erasing":
            steps.append(v2.RandomErasing(op["p"], scale=(op["scale_min"], op["scale_max"]), value=0))
    return v2.Compose(steps)
