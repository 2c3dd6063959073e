"""The data a run trains on: splits, fitted statistics, and fast batch iteration.

Datasets that fit in memory are held as tensors and batched by slicing (with batched per-sample
augmentation); image folders too large for memory stream through a torch DataLoader.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import DataError
from ..recipe import Recipe
from .augment import BatchAugment, torchvision_pipeline
from .cleaning import CleaningReport, clean_pool
from .normalize import NormStats, compute_stats
from .sources import Pool, load_image, load_images, load_pool
from .split import split_indices
from .tabular import TableEncoder, encode_table
from .text import Vocab

READY_CACHE_BYTES = 1024**3  # normalized copies of a split are cached up to this size


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
    vocab: Vocab | None = None
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
        return sel.float() / self.value_scale if self.kind == "image" else sel

    def prepare(self, raw: torch.Tensor, augment: BatchAugment | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor:
        """Raw storage → model input: scale, augment (if given), normalize; order depends on kind."""
        if self.kind == "text":
            return augment(raw, generator) if augment else raw
        x = raw.float()
        if self.kind == "image":
            if self.value_scale != 1.0:
                x = x.div_(self.value_scale)
            if augment:
                x = augment(x, generator)
            return self.norm.apply(x)
        x = self.norm.apply(x)  # tables: noise is added in standard-deviation units
        return augment(x, generator) if augment else x

    def inputs(self, split: str, device: torch.device | str = "cpu") -> torch.Tensor:
        """The whole split prepared for the model (cached when small), e.g. for evaluation."""
        key = (split, str(device))
        if key in self._ready:
            return self._ready[key]
        if self.lazy:
            raise DataError("data.root", self.source, "this image folder is too large to hold in memory; "
                            "use DataBundle.batches() to iterate it")
        x = self.splits[split].x
        out = torch.cat([self.prepare(x[i:i + 8192]) for i in range(0, len(x), 8192)]) if len(x) else \
            self.prepare(x)
        out = out.to(device)
        if out.numel() * out.element_size() <= READY_CACHE_BYTES:
            self._ready[key] = out
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
        if self.kind == "text":
            norm = self.norm
        elif self.lazy:
            norm = _folder_stats(self.train.x, self.input_shape[-1], recipe)
        else:
            norm = compute_stats(self.train.x, recipe.normalize, self.value_scale)
        ops = recipe.augment.ops if recipe.augment.enabled else []
        return dataclasses.replace(self, norm=norm, augment_ops=[dict(o) for o in ops], _ready={})

    def release(self) -> None:
        """Drop cached prepared tensors (e.g. when a finished run is kept only for its metrics)."""
        self._ready.clear()


class Batches:
    """An epoch-aware iterable of batches; ``set_epoch`` makes shuffling and augmentation resumable."""

    epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:  # pragma: no cover - overridden
        raise NotImplementedError

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:  # pragma: no cover - overridden
        raise NotImplementedError


def epoch_generator(seed: int, epoch: int) -> torch.Generator:
    """A generator seeded by (seed, epoch): an epoch replays identically after a resume."""
    return torch.Generator().manual_seed((seed * 1_000_003 + epoch * 7919 + 17) % (2**63 - 1))


def rank_share(m: int, rank: int, world_size: int) -> tuple[int, int]:
    """[lo, hi) of a global batch of ``m`` samples that process ``rank`` takes.

    Sizes differ by at most one; when the batch has fewer samples than processes (a tiny last
    batch), every process takes all of it, so no process runs an empty batch. Either way, scaling
    each process's mean loss by ``its samples × world_size / all samples`` before DDP averages the
    gradients gives exactly the gradient of the global batch mean.
    """
    if world_size <= 1 or m < world_size:
        return 0, m
    base, extra = divmod(m, world_size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


class TensorBatches(Batches):
    """Batches sliced from tensors in memory; augmentation applied batch-wise per sample.

    Data-parallel (``world_size`` > 1): every process draws the same permutation of the epoch and
    takes its `rank_share` of each global batch; augmentation is drawn for the whole global batch
    before slicing, so the samples and their transformations do not depend on the number of processes.
    """

    def __init__(self, bundle: DataBundle, split: str, batch_size: int, *, shuffle: bool,
                 augment: BatchAugment | None, seed: int, device: torch.device, rank: int = 0,
                 world_size: int = 1):
        self.bundle, self.split, self.batch_size = bundle, split, batch_size
        self.shuffle, self.augment, self.seed, self.device = shuffle, augment, seed, device
        self.rank, self.world_size = rank, world_size
        data = bundle.splits[split]
        self.y = data.y.to(device)
        if augment is None:
            self.x = bundle.inputs(split, device)  # prepared once, then only sliced
        else:
            small = data.x.numel() * data.x.element_size() <= READY_CACHE_BYTES
            self.x = data.x.to(device) if small else data.x

    def __len__(self) -> int:
        return len(self._starts(len(self.y)))

    def _starts(self, n: int) -> range:
        """Batch start offsets. Training drops a trailing batch of a single sample: batch norm
        cannot normalize one value, and the sample is seen in other epochs (the order is shuffled)."""
        stop = n - 1 if self.shuffle and n > 1 and n % self.batch_size == 1 else n
        return range(0, stop, self.batch_size)

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        n = len(self.y)
        g = epoch_generator(self.seed, self.epoch)
        order = torch.randperm(n, generator=g).to(self.y.device) if self.shuffle else None
        if self.world_size > 1:
            yield from self._shares(n, order, g)
            return
        for start in self._starts(n):
            if order is None:
                xb, yb = self.x[start:start + self.batch_size], self.y[start:start + self.batch_size]
            else:
                idx = order[start:start + self.batch_size]
                xb, yb = self.x[idx.to(self.x.device)], self.y[idx]
            if self.augment is not None:
                xb = self.bundle.prepare(xb.to(self.device, non_blocking=True), self.augment, g)
            yield xb, yb

    def _shares(self, n: int, order: torch.Tensor | None,
                g: torch.Generator) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        for start in self._starts(n):
            stop = min(n, start + self.batch_size)
            idx = order[start:stop] if order is not None else torch.arange(start, stop, device=self.y.device)
            lo, hi = rank_share(len(idx), self.rank, self.world_size)
            if self.augment is not None:
                xb = self.bundle.prepare(self.x[idx.to(self.x.device)].to(self.device, non_blocking=True),
                                         self.augment, g)[lo:hi]
            else:
                xb = self.x[idx[lo:hi].to(self.x.device)]
            yield xb, self.y[idx[lo:hi]]


class _FolderDataset(torch.utils.data.Dataset):
    def __init__(self, bundle: DataBundle, split: str, augment: bool):
        self.paths = bundle.splits[split].x
        self.labels = bundle.splits[split].y
        self.size = bundle.input_shape[-1]
        self.norm = bundle.norm
        self.transform = torchvision_pipeline(bundle.augment_ops, self.size) if augment else None

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = load_image(Path(self.paths[i]), self.size).float() / 255.0
        if self.transform is not None:
            x = self.transform(x)
        return self.norm.apply(x.unsqueeze(0))[0], self.labels[i]


class FolderBatches(Batches):
    """Image files streamed through a DataLoader with torchvision v2 per-sample augmentation.

    Data-parallel (``world_size`` > 1): a DistributedSampler gives each process its share of the
    epoch's shuffled files, in batches of ``batch_size / world_size``.
    """

    def __init__(self, bundle: DataBundle, split: str, batch_size: int, *, shuffle: bool, augment: bool,
                 seed: int, rank: int = 0, world_size: int = 1):
        self.dataset = _FolderDataset(bundle, split, augment)
        self.batch_size, self.shuffle, self.seed = batch_size, shuffle, seed
        self.rank, self.world_size = rank, world_size
        self.sampler: torch.utils.data.DistributedSampler | None = None
        if world_size > 1:
            self.sampler = torch.utils.data.DistributedSampler(self.dataset, num_replicas=world_size, rank=rank,
                                                               shuffle=shuffle, seed=seed, drop_last=False)
            self.batch_size = max(1, batch_size // world_size)

    def __len__(self) -> int:
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        return n // self.batch_size if self._drop_last(n) else math.ceil(n / self.batch_size)

    def _drop_last(self, n: int) -> bool:
        """Training drops a trailing single-sample batch (batch norm needs two values)."""
        return self.shuffle and n > 1 and n % self.batch_size == 1

    def __iter__(self) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
        if self.sampler is not None:
            self.sampler.set_epoch(self.epoch)
            loader = torch.utils.data.DataLoader(self.dataset, batch_size=self.batch_size, sampler=self.sampler,
                                                 num_workers=0, drop_last=self._drop_last(len(self.sampler)))
        else:
            loader = torch.utils.data.DataLoader(self.dataset, batch_size=self.batch_size, shuffle=self.shuffle,
                                                 generator=epoch_generator(self.seed, self.epoch), num_workers=0,
                                                 drop_last=self._drop_last(len(self.dataset)))
        # v2 transforms draw from the global RNG; each process gets its own stream
        torch.manual_seed(self.seed * 1_000_003 + self.epoch + 7919 * self.rank)
        yield from loader


# --------------------------------------------------------------------------------------
# Building


def load_clean_pool(recipe: Recipe) -> tuple[Pool, CleaningReport]:
    """Load the recipe's source and clean it (duplicates, missing values); limit its size."""
    cfg = recipe.data
    pool, report = clean_pool(load_pool(cfg), cfg.clean)
    if cfg.limit and len(pool) + (len(pool.fixed_test) if pool.fixed_test else 0) > cfg.limit:
        pool = _limited(pool, cfg.limit, cfg.seed)
        report.add("limit", report.after - cfg.limit, f"data.limit keeps {cfg.limit} samples")
        report.after = cfg.limit
    return pool, report


def _limited(pool: Pool, limit: int, seed: int) -> Pool:
    rng = np.random.default_rng(seed)
    fixed = pool.fixed_test
    total = len(pool) + (len(fixed) if fixed is not None else 0)
    n_test = round(limit * len(fixed) / total) if fixed is not None else 0
    out = pool.subset(np.sort(rng.choice(len(pool), limit - n_test, replace=False)))
    if fixed is not None:
        out.fixed_test = fixed.subset(np.sort(rng.choice(len(fixed), max(1, n_test), replace=False)))
    return out


def assemble(recipe: Recipe, pool: Pool, report: CleaningReport, train_idx: np.ndarray,
             val_idx: np.ndarray, test: Pool) -> DataBundle:
    """Fit what is fitted (vocabulary, encoders, normalization) on the train rows and build splits."""
    cfg = recipe.data
    parts = {"train": pool.subset(train_idx), "val": pool.subset(val_idx), "test": test}
    labels = {k: p.labels for k, p in parts.items()}
    vocab = encoder = None
    value_scale = 1.0
    lazy = bool(pool.info.get("lazy"))
    if pool.kind == "text":
        vocab = Vocab.fit(parts["train"].inputs, cfg.min_freq, cfg.max_vocab)
        xs = {k: vocab.encode(p.inputs, cfg.max_len) for k, p in parts.items()}
        norm = NormStats.identity()
        input_shape = [cfg.max_len]
    elif pool.kind == "tabular":
        xs, labels, encoder = encode_table({k: p.inputs for k, p in parts.items()}, labels, cfg.clean, report)
        norm = compute_stats(xs["train"], recipe.normalize)
        input_shape = [xs["train"].shape[1]]
    elif lazy:
        xs = {k: list(p.inputs) for k, p in parts.items()}
        size = int(pool.info["image_size"])
        norm = _folder_stats(xs["train"], size, recipe)
        input_shape = [3, size, size]
    else:
        xs = {k: p.inputs for k, p in parts.items()}
        value_scale = 255.0 if xs["train"].dtype == torch.uint8 else 1.0
        norm = compute_stats(xs["train"], recipe.normalize, value_scale)
        input_shape = list(xs["train"].shape[1:])
    splits = {k: Split(xs[k], torch.as_tensor(labels[k], dtype=torch.long),
                       list(parts[k].inputs) if pool.kind == "text" else None) for k in parts}
    ops = recipe.augment.ops if recipe.augment.enabled else []
    return DataBundle(pool.kind, cfg.source, splits, pool.classes, input_shape, norm, report,
                      augment_ops=[dict(o) for o in ops], value_scale=value_scale, vocab=vocab,
                      encoder=encoder, lazy=lazy)


def _folder_stats(paths: list, size: int, recipe: Recipe) -> NormStats:
    """Statistics of a lazily loaded image folder, from a seeded sample of up to 2,000 train images."""
    rng = np.random.default_rng(recipe.data.seed)
    sample = rng.choice(len(paths), min(2000, len(paths)), replace=False)
    return compute_stats(load_images([paths[i] for i in sample], size), recipe.normalize, 255.0)


def build_data(recipe: Recipe) -> DataBundle:
    """recipe → loaded, cleaned, split, fitted data ready for training."""
    pool, report = load_clean_pool(recipe)
    cfg = recipe.data
    fixed = pool.fixed_test
    train_idx, val_idx, test_idx = split_indices(pool.labels, cfg.val_fraction, cfg.test_fraction, cfg.seed,
                                                 has_fixed_test=fixed is not None)
    test = fixed if fixed is not None else pool.subset(test_idx)
    return assemble(recipe, pool, report, train_idx, val_idx, test)


def kfold_bundles(recipe: Recipe, folds: int) -> Iterator[tuple[int, DataBundle]]:
    """One bundle per fold of stratified k-fold CV over the non-test samples.

    Each fold's held-out part serves as both its validation and test split; statistics,
    vocabulary and encoders are refitted on each fold's training part.
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    pool, report = load_clean_pool(recipe)
    cfg = recipe.data
    if pool.fixed_test is None and cfg.test_fraction > 0:
        rest, _, _ = split_indices(pool.labels, 0.0, cfg.test_fraction, cfg.seed)
        pool = pool.subset(rest)
    _, counts = np.unique(pool.labels, return_counts=True)
    if len(pool) < folds * 2:
        raise DataError("evaluate.cv_folds", folds, f"needs at least {2 * folds} samples; the data has "
                        f"{len(pool)}")
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=cfg.seed) if counts.min() >= folds
                else KFold(folds, shuffle=True, random_state=cfg.seed))
    for i, (tr, held) in enumerate(splitter.split(np.zeros(len(pool)), pool.labels)):
        fold_report = CleaningReport(report.before, report.after, list(report.steps))
        yield i, assemble(recipe, pool, fold_report, tr, held, pool.subset(held))
