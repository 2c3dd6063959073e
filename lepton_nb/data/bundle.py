"""The data a run trains on: splits, fitted statistics, sample access; `batches` iterates them.

Datasets that fit in memory are held as tensors and batched by slicing (with batched per-sample
augmentation); image folders too large for memory stream through a torch DataLoader.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from ..recipe import DATA_KINDS, Recipe
from .augment import BatchAugment
from .batches import READY_CACHE_BYTES, Batches, FolderBatches, TensorBatches
from .cleaning import CleaningReport
from .normalize import NormStats, compute_stats, folder_stats
from .sources import load_images
from .subword import SubwordVocab
from .tabular import TableEncoder
from .text import Vocab


@dataclass
class Split:
    """Inputs (tensor, or image paths for lazy folders) and integer labels of one split."""

    x: Any
    y: torch.Tensor
    texts: list[str] | None = None  # original sentences of text data, for display

    def __len__(self) -> int:
        return len(self.y)


@dataclass
class DataSpec:
    """What a model needs to know about the data (and what a run folder records)."""

    kind: str
    input_shape: list[int]
    num_classes: int
    classes: list[str]
    vocab_size: int = 0
    feature_names: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    @classmethod
    def from_dict(cls, d: dict) -> DataSpec:
        return cls(**d)


@dataclass
class DataBundle:
    kind: str
    source: str
    splits: dict[str, Split]
    classes: list[str]
    input_shape: list[int]
    norm: NormStats
    cleaning: CleaningReport
    augment_ops: list[dict] = field(default_factory=list)
    value_scale: float = 1.0  # raw storage / value_scale gives [0, 1] images
    vocab: Vocab | SubwordVocab | None = None
    encoder: TableEncoder | None = None
    lazy: bool = False
    _ready: dict = field(default_factory=dict, repr=False)

    # ---- description ---------------------------------------------------------------------

    @property
    def train(self) -> Split:
        return self.splits["train"]

    @property
    def val(self) -> Split:
        return self.splits["val"]

    @property
    def test(self) -> Split:
        return self.splits["test"]

    @property
    def feature_names(self) -> list[str]:
        return self.encoder.feature_names if self.encoder is not None else []

    def spec(self) -> DataSpec:
        return DataSpec(self.kind, list(self.input_shape), len(self.classes), list(self.classes),
                        len(self.vocab) if self.vocab is not None else 0, self.feature_names)

    def sizes(self) -> dict[str, int]:
        return {name: len(split) for name, split in self.splits.items()}

    def describe(self) -> str:
        sizes = ", ".join(f"{k} {v}" for k, v in self.sizes().items())
        return f"{self.source}: {self.kind}, {len(self.classes)} classes, input {tuple(self.input_shape)}; {sizes}"

    def check_finite(self) -> None:
        """Raise `DataError` naming the split and sample holding a NaN or inf value.

        Run when the data is built and again whenever a Trainer is given the bundle (never cached: the user's
        own tensors may have changed in place since, through torch or a numpy view; a pass over float inputs
        costs milliseconds): a NaN input would otherwise reach batch normalization's running statistics before
        the loss shows it.
        """
        if self.lazy:
            return
        for name, split in self.splits.items():
            x = split.x
            if not isinstance(x, torch.Tensor) or not x.is_floating_point() or not len(x):
                continue
            bad = torch.cat([~torch.isfinite(x[a:a + 8192].reshape(len(x[a:a + 8192]), -1)).all(1)
                             for a in range(0, len(x), 8192)])  # in chunks: no second copy of a large split
            if bad.any():
                i = int(bad.nonzero()[0, 0])
                where = tuple(torch.nonzero(~torch.isfinite(x[i]))[0].tolist())
                raise DataError(f"data ({self.source})", f"{name}[{i}]", f"sample {i} of the {name} split holds "
                                f"{float(x[i][where])} at {where} ({int(bad.sum())} such sample(s)); allowed: "
                                "finite values — fix or remove those samples")

    def augmenter(self, ops: list[dict] | None = None) -> BatchAugment:
        return BatchAugment(self.augment_ops if ops is None else ops, self.kind)

    # ---- sample access -------------------------------------------------------------------

    def raw(self, split: str, idx: Any) -> torch.Tensor:
        """Samples as a person sees them: images float in [0, 1], token ids, or unscaled features."""
        x = self.splits[split].x
        if self.lazy:
            indices = np.atleast_1d(np.asarray(idx))
            return load_images([x[i] for i in indices], self.input_shape[-1]).float() / 255.0
        sel = x[torch.as_tensor(idx)] if not isinstance(idx, slice) else x[idx]
        return sel.float() / self.value_scale if DATA_KINDS[self.kind].pixels else sel

    def prepare(self, raw: torch.Tensor, augment: BatchAugment | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw storage → model input: scale, augment (if given), normalize; order depends on kind."""
        if DATA_KINDS[self.kind].tokens:
            return augment(raw, generator) if augment else raw
        x = raw.float()
        if DATA_KINDS[self.kind].pixels:
            if self.value_scale != 1.0:
                x = x.div_(self.value_scale)
            if augment:
                x = augment(x, generator)
            return self.norm.apply(x)
        x = self.norm.apply(x)  # tables: noise is added in standard-deviation units
        return augment(x, generator) if augment else x

    def inputs(self, split: str, device: torch.device | str = "cpu") -> torch.Tensor:
        """The whole split prepared for the model (cached when small and while the split's tensor is unchanged),
        e.g. for evaluation."""
        if self.lazy:
            raise DataError("data.root", self.source, "this image folder is too large to hold in memory; "
                            "use DataBundle.batches() to iterate it")
        x = self.splits[split].x
        key, stamp = (split, str(device)), (id(x), getattr(x, "_version", None))
        cached = self._ready.get(key)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        out = torch.cat([self.prepare(x[i:i + 8192]) for i in range(0, len(x), 8192)]) if len(x) else \
            self.prepare(x)
        out = out.to(device)
        if out.numel() * out.element_size() <= READY_CACHE_BYTES:
            self._ready[key] = (stamp, out)
        return out

    def labels(self, split: str) -> torch.Tensor:
        return self.splits[split].y

    # ---- batches -------------------------------------------------------------------------

    def batches(self, split: str, batch_size: int, *, train: bool = False, seed: int = 0,
                device: torch.device | str = "cpu", augment: bool = True, rank: int = 0,
                world_size: int = 1) -> Batches:
        """Batches of (inputs, labels) ready for the model; shuffled and augmented when ``train``.

        With ``world_size`` > 1 (data-parallel training), ``batch_size`` is the global batch and this
        process (``rank``) gets its share of each one; see `TensorBatches`.
        """
        aug = self.augmenter() if (train and augment and self.augment_ops) else None
        if self.lazy:
            return FolderBatches(self, split, batch_size, shuffle=train, augment=aug is not None, seed=seed,
                                 rank=rank, world_size=world_size)
        return TensorBatches(self, split, batch_size, shuffle=train, augment=aug, seed=seed,
                             device=torch.device(device), rank=rank, world_size=world_size)

    def rebind(self, recipe: Recipe) -> DataBundle:
        """The same splits with ``recipe``'s normalization and augmentation, without reloading.

        Statistics are refitted on the train split; the original bundle is left untouched.
        """
        if DATA_KINDS[self.kind].tokens:
            norm = self.norm
        elif self.lazy:
            norm = folder_stats(self.train.x, self.input_shape[-1], recipe.normalize, recipe.data.seed)
        else:
            norm = compute_stats(self.train.x, recipe.normalize, self.value_scale)
        ops = recipe.augment.ops if recipe.augment.enabled else []
        return dataclasses.replace(self, norm=norm, augment_ops=[dict(o) for o in ops], _ready={})

    def release(self) -> None:
        """Drop cached prepared tensors (e.g. when a finished run is kept only for its metrics)."""
        self._ready.clear()
