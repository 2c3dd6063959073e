"""Batch iteration: tensors sliced in memory, or image files streamed through a DataLoader.

Every random choice (shuffling, augmentation) comes from a generator seeded by (seed, epoch), so an
epoch replays identically after a resume and nothing here draws from the process-wide RNG.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import torch

from ..seeding import seeded_global_rng
from .augment import BatchAugment, torchvision_pipeline
from .normalize import NormStats
from .sources import load_image

READY_CACHE_BYTES = 1024**3  # normalized copies of a split are cached up to this size


class BatchSource(Protocol):
    """What batching needs of a `DataBundle`."""

    splits: dict[str, Any]
    input_shape: list[int]
    norm: NormStats
    augment_ops: list[dict]

    def inputs(self, split: str, device: torch.device | str = "cpu") -> torch.Tensor: ...

    def prepare(self, raw: torch.Tensor, augment: BatchAugment | None = None,
                generator: torch.Generator | None = None) -> torch.Tensor: ...


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


def shard(n: int, rank: int, world_size: int) -> tuple[int, int]:
    """[lo, hi) of ``n`` items that process ``rank`` takes: contiguous, sizes differ by at most one."""
    base, extra = divmod(n, world_size)
    lo = rank * base + min(rank, extra)
    return lo, lo + base + (1 if rank < extra else 0)


def rank_share(m: int, rank: int, world_size: int) -> tuple[int, int]:
    """[lo, hi) of a global batch of ``m`` samples that process ``rank`` takes.

    Sizes differ by at most one; when the batch has fewer samples than processes (a tiny last
    batch), every process takes all of it, so no process runs an empty batch. Either way, scaling
    each process's mean loss by ``its samples × world_size / all samples`` before DDP averages the
    gradients gives exactly the gradient of the global batch mean.
    """
    if world_size <= 1 or m < world_size:
        return 0, m
    return shard(m, rank, world_size)


class TensorBatches(Batches):
    """Batches sliced from tensors in memory; augmentation applied batch-wise per sample.

    Data-parallel (``world_size`` > 1): every process draws the same permutation of the epoch and
    takes its `rank_share` of each global batch; augmentation is drawn for the whole global batch
    before slicing, so the samples and their transformations do not depend on the number of processes.
    """

    def __init__(self, bundle: BatchSource, split: str, batch_size: int, *, shuffle: bool,
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
    def __init__(self, bundle: BatchSource, split: str, augment: bool):
        self.paths = bundle.splits[split].x
        self.labels = bundle.splits[split].y
        self.size = bundle.input_shape[-1]
        self.norm = bundle.norm
        self.transform = torchvision_pipeline(bundle.augment_ops, self.size) if augment else None
        self.seed = self.epoch = 0

    def __len__(self) -> int:
        return len(self.paths)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, torch.Tensor]:
        x = load_image(Path(self.paths[i]), self.size).float() / 255.0
        if self.transform is not None:  # v2 transforms draw from the global RNG: seeded per sample
            with seeded_global_rng(self.seed * 1_000_003 + self.epoch * 7919 + i):
                x = self.transform(x)
        return self.norm.apply(x.unsqueeze(0))[0], self.labels[i]


class FolderBatches(Batches):
    """Image files streamed through a DataLoader with torchvision v2 per-sample augmentation.

    Data-parallel (``world_size`` > 1): a DistributedSampler gives each process its share of the
    epoch's shuffled files, in batches of ``batch_size / world_size``.
    """

    def __init__(self, bundle: BatchSource, split: str, batch_size: int, *, shuffle: bool, augment: bool,
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
        self.dataset.seed, self.dataset.epoch = self.seed, self.epoch
        yield from loader
