"""How the loop runs: one process (`SingleProcess`) or data-parallel under torchrun (`DataParallel`).

The Trainer is handed one strategy object and asks it to wrap the model, shard batches, reduce
batch statistics, agree on stopping, synchronize batch-norm statistics and score splits; the loop
itself has no distributed branches.

Data-parallel training with torch.distributed: the same recipe on N processes under torchrun.

``torchrun --standalone --nproc_per_node N -m lepton_nb run RECIPE.json`` (or ``lepton-nb run RECIPE.json
--nproc N``, which launches exactly that) trains with DistributedDataParallel — ``gloo`` on CPU,
``nccl`` on CUDA (one GPU per process):

* the global batch is the recipe's ``train.batch_size``; each process takes ``batch_size / N`` samples of
  every batch (slices of the same seeded permutation on all ranks; a DistributedSampler for image
  folders streamed from disk), so a 2-process run sees the same batches as the 1-process run;
* augmentation is drawn for the global batch, so it does not depend on N either;
* per-batch loss, accuracy and stop/divergence flags are all-reduced, so every process takes the same
  decisions; gradients are averaged by DDP with the loss scaled to the global batch mean;
* batch-norm statistics are averaged across processes after each epoch (on CUDA the layers are
  converted to SyncBatchNorm; torch's SyncBatchNorm has no CPU kernel, so on CPU each process
  normalizes with its own share of the batch);
* validation and test metrics are computed on the full splits: each process scores a shard, the
  logits are all-gathered, and sklearn computes the metrics from all of them;
* only rank 0 writes files (run folder, checkpoints, history, report) and shows progress.

`from_environment` finds the process group itself (it initializes it from torchrun's environment when
needed), so a script calling ``lnb.train(recipe)`` runs unchanged under torchrun or without it.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from ..data.batches import Batches, shard
from ..data.bundle import DataBundle
from ..errors import Problem, RecipeError
from ..evaluation import EvalResult, evaluate_logits, evaluate_model, predict_logits
from ..recipe import DATA_KINDS, Recipe
from .optim import resolve_device


@dataclass
class BatchStats:
    """One batch as the loop records it: the global mean loss, samples, correct predictions, and the
    loss to backpropagate (scaled for accumulation and, data-parallel, for gradient averaging)."""

    loss: float
    size: int
    correct: Any  # a 0-d tensor (one process: no sync per batch) or an int
    backward: torch.Tensor
    stop_all: bool = False


class SingleProcess:
    """One process: the model trains as it is; metrics are this process's."""

    rank = 0
    world_size = 1
    is_main = True
    device: torch.device | None = None  # None: the recipe's train.device

    def wrap(self, model: nn.Module) -> tuple[nn.Module, nn.Module]:
        """(module to keep and checkpoint, module the training forward pass runs)."""
        return model, model

    def batches(self, data: DataBundle, batch_size: int, seed: int, device: torch.device) -> Batches:
        return data.batches("train", batch_size, train=True, seed=seed, device=device)

    def no_sync(self, model: nn.Module, boundary: bool) -> contextlib.AbstractContextManager:
        return contextlib.nullcontext()

    def batch_stats(self, loss: torch.Tensor, out: torch.Tensor, yb: torch.Tensor, stop_requested: bool,
                    accum: int) -> BatchStats:
        size, correct = target_counts(out, yb)
        return BatchStats(loss.item(), size, correct, loss / accum if accum > 1 else loss)

    def agree_stop(self, requested: bool) -> bool:
        return requested

    def end_epoch(self, model: nn.Module) -> None:
        """Called after every epoch, before validation."""

    def evaluate(self, model: nn.Module, data: DataBundle, split: str, metrics: Sequence[str]) -> EvalResult:
        return evaluate_model(model, data, split, list(metrics))

    def close(self, wait: bool = True) -> None:
        """Release what the strategy set up (nothing for one process)."""

    def to_dict(self) -> dict[str, Any]:
        return {"world_size": 1}


def target_counts(out: torch.Tensor, yb: torch.Tensor) -> tuple[int, torch.Tensor]:
    """(targets, correct predictions) of a batch: one per sample, or one per token where targets are
    [B, L] with -100 at positions without a target (masked-token prediction)."""
    hits = out.detach().argmax(1) == yb
    if yb.dim() > 1:
        valid = yb != -100
        return int(valid.sum()), (hits & valid).sum()
    return len(yb), hits.sum()


@dataclass(frozen=True)
class DistContext:
    """This process's place in the process group."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device
    owns_group: bool = False  # True when lepton_nb initialized the group (and so destroys it)


class DataParallel(SingleProcess):
    """DistributedDataParallel over the torchrun process group (see the module docstring)."""

    def __init__(self, ctx: DistContext):
        self.ctx = ctx
        self.rank, self.world_size, self.device = ctx.rank, ctx.world_size, ctx.device
        self.is_main = ctx.rank == 0

    def wrap(self, model: nn.Module) -> tuple[nn.Module, nn.Module]:
        from torch.nn.parallel import DistributedDataParallel as DDP

        ctx = self.ctx
        if ctx.device.type == "cuda" and any(isinstance(m, nn.modules.batchnorm._BatchNorm)
                                             for m in model.modules()):
            model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
        if not any(p.requires_grad for p in model.parameters()):
            return model, model
        device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
        # Buffers (batch-norm running statistics) are averaged once per epoch by `end_epoch`
        # rather than broadcast from rank 0 before every forward pass.
        return model, DDP(model, device_ids=device_ids, broadcast_buffers=False)

    def batches(self, data: DataBundle, batch_size: int, seed: int, device: torch.device) -> Batches:
        return data.batches("train", batch_size, train=True, seed=seed, device=device, rank=self.rank,
                            world_size=self.world_size)

    def no_sync(self, model: nn.Module, boundary: bool) -> contextlib.AbstractContextManager:
        return model.no_sync() if not boundary and hasattr(model, "no_sync") else contextlib.nullcontext()

    def batch_stats(self, loss: torch.Tensor, out: torch.Tensor, yb: torch.Tensor, stop_requested: bool,
                    accum: int) -> BatchStats:
        # one all-reduce: the global batch's loss and accuracy, and whether any process stops
        size, right = target_counts(out, yb)
        total, count, correct, stops = self.reduce_sum([loss.item() * size, float(size), float(right),
                                                        float(stop_requested)])
        # DDP averages gradients over processes: scale so the result is the global mean's gradient
        scaled = loss * (size * self.world_size / count / accum)
        return BatchStats(total / count, int(count), int(correct), scaled, stops > 0)

    def agree_stop(self, requested: bool) -> bool:
        """True on every process when any was asked to stop (keeps the processes in step)."""
        return self.reduce_sum([1.0 if requested else 0.0])[0] > 0

    def end_epoch(self, model: nn.Module) -> None:
        """Average floating-point buffers (batch-norm running mean/var) across processes."""
        buffers = [b for b in model.buffers() if b.is_floating_point()]
        if not buffers:
            return
        flat = torch.cat([b.detach().reshape(-1).float() for b in buffers])
        dist.all_reduce(flat)
        flat /= self.world_size
        offset = 0
        for b in buffers:
            n = b.numel()
            b.copy_(flat[offset:offset + n].view_as(b))
            offset += n

    def reduce_sum(self, values: list[float]) -> list[float]:
        """Element-wise sum over processes of a few numbers (one all-reduce)."""
        t = torch.tensor(values, dtype=torch.float64, device=self.ctx.device if self.ctx.backend == "nccl" else "cpu")
        dist.all_reduce(t)
        return t.tolist()

    def gather_rows(self, local: torch.Tensor, n: int) -> torch.Tensor:
        """All-gather each process's `shard` of n rows into the full [n, ...] tensor on every process."""
        lo, hi = shard(n, self.rank, self.world_size)
        longest = -(-n // self.world_size)
        device = self.ctx.device if self.ctx.backend == "nccl" else torch.device("cpu")
        padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=device)
        padded[: hi - lo] = local.to(device)
        parts = [torch.empty_like(padded) for _ in range(self.world_size)]
        dist.all_gather(parts, padded)
        sizes = [hi - lo for lo, hi in (shard(n, rank, self.world_size) for rank in range(self.world_size))]
        rows = [part[:size] for part, size in zip(parts, sizes)]
        return torch.cat(rows).cpu()

    def evaluate(self, model: nn.Module, data: DataBundle, split: str, metrics: Sequence[str],
                 batch_size: int = 1024) -> EvalResult:
        """Metrics of the full split: each process scores its shard, logits are gathered, sklearn scores them.

        Every process returns the same result. Image folders streamed from disk are scored whole on
        every process (their batches are not indexable).
        """
        if data.lazy:
            return evaluate_model(model, data, split, list(metrics), batch_size)
        n = len(data.splits[split])
        lo, hi = shard(n, self.rank, self.world_size)
        x = data.splits[split].x[lo:hi]
        device = next(model.parameters()).device
        local = predict_logits(model, data.prepare(x), batch_size, device) if hi > lo else \
            torch.empty((0, len(data.classes)))
        logits = self.gather_rows(local.float(), n)
        return evaluate_logits(logits, data.labels(split), data.classes, list(metrics), split)

    def close(self, wait: bool = True) -> None:
        """Destroy the process group if lepton_nb created it (after every process got here, when ``wait``)."""
        if self.ctx.owns_group and dist.is_initialized():
            if wait:
                dist.barrier()
            dist.destroy_process_group()

    def to_dict(self) -> dict[str, Any]:
        ctx = self.ctx
        return {"rank": ctx.rank, "world_size": ctx.world_size, "backend": ctx.backend, "device": str(ctx.device)}


def env_world_size() -> int:
    """The WORLD_SIZE torchrun set for this process (1 outside torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def from_environment(device: str = "auto") -> SingleProcess:
    """The strategy for this process: `DataParallel` when it belongs to a process group of several
    processes (initialized from torchrun's environment if needed), else `SingleProcess`.

    ``device`` is the recipe's ``train.device``.
    """
    initialized = dist.is_available() and dist.is_initialized()
    if not initialized and env_world_size() <= 1:
        return SingleProcess()
    if not dist.is_available():
        raise RecipeError([Problem("WORLD_SIZE", env_world_size(), "this torch build has no torch.distributed; "
                                                                   "allowed: 1 process")])
    wanted = resolve_device(device)
    use_cuda = wanted.type == "cuda"
    local_rank = int(os.environ.get("LOCAL_RANK", "0"))
    owns = False
    if not initialized:
        if use_cuda:
            if local_rank >= torch.cuda.device_count():
                raise RecipeError([Problem("--nproc", env_world_size(), f"this machine has "
                                           f"{torch.cuda.device_count()} CUDA device(s); allowed: at most that many "
                                           "processes per node, or train.device 'cpu'")])
            torch.cuda.set_device(local_rank)
        dist.init_process_group("nccl" if use_cuda else "gloo")
        owns = True
    backend = str(dist.get_backend())
    if backend == "nccl":
        dev = torch.device("cuda", local_rank)
        torch.cuda.set_device(dev)
    else:
        dev = torch.device("cpu")  # gloo: CPU tensors (DDP on MPS is not supported by torch.distributed)
    world = dist.get_world_size()
    if world <= 1:
        if owns:
            dist.destroy_process_group()
        return SingleProcess()
    return DataParallel(DistContext(dist.get_rank(), world, local_rank, backend, dev, owns))


def check_batch_size(recipe: Recipe, world_size: int) -> None:
    """The global batch must split evenly across processes (RecipeError naming both values otherwise)."""
    bs = recipe.train.batch_size
    if world_size > 1 and bs // world_size < 2 and recipe.model.batch_norm and not DATA_KINDS[recipe.kind].tokens:
        raise RecipeError([Problem("train.batch_size", bs, f"with {world_size} processes each takes "
                                   f"{bs // world_size} sample(s) of a batch and batch normalization needs 2; "
                                   f"allowed: at least {2 * world_size}, or model.batch_norm false")])
    if world_size > 1 and bs % world_size:
        lower = bs - bs % world_size
        upper = lower + world_size
        nearby = f"{lower} or {upper}" if lower > 0 else str(upper)
        raise RecipeError([Problem("train.batch_size", bs, f"with {world_size} processes, allowed: a multiple of "
                                   f"{world_size} (each process takes batch_size / {world_size} samples of every "
                                   f"batch), e.g. {nearby}")])
