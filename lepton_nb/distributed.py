"""Data-parallel training with torch.distributed: the same recipe on N processes under torchrun.

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

`lepton_nb.train` finds the process group itself (it initializes it from torchrun's environment when
needed), so a script calling ``lnb.train(recipe)`` runs unchanged under torchrun or without it.
"""

from __future__ import annotations

import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
import torch.distributed as dist
from torch import nn

from .recipe import Problem, Recipe, RecipeError

if TYPE_CHECKING:
    from .data.bundle import DataBundle
    from .evaluate import EvalResult


@dataclass(frozen=True)
class DistContext:
    """This process's place in the process group."""

    rank: int
    world_size: int
    local_rank: int
    backend: str
    device: torch.device
    owns_group: bool = False  # True when lepton_nb initialized the group (and so destroys it)

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    def to_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "world_size": self.world_size, "backend": self.backend,
                "device": str(self.device)}


def env_world_size() -> int:
    """The WORLD_SIZE torchrun set for this process (1 outside torchrun)."""
    try:
        return int(os.environ.get("WORLD_SIZE", "1"))
    except ValueError:
        return 1


def setup(device: str = "auto") -> DistContext | None:
    """The process group this process belongs to, initialized from torchrun's environment if needed.

    ``device`` is the recipe's ``train.device``. Returns None when not distributed (one process).
    """
    from .train.trainer import resolve_device

    initialized = dist.is_available() and dist.is_initialized()
    if not initialized and env_world_size() <= 1:
        return None
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
        return None
    return DistContext(dist.get_rank(), world, local_rank, backend, dev, owns)


def teardown(ctx: DistContext | None, wait: bool = True) -> None:
    """Destroy the process group if lepton_nb created it (after every process got here, when ``wait``)."""
    if ctx is not None and ctx.owns_group and dist.is_initialized():
        if wait:
            dist.barrier()
        dist.destroy_process_group()


def check_batch_size(recipe: Recipe, world_size: int) -> None:
    """The global batch must split evenly across processes (RecipeError naming both values otherwise)."""
    bs = recipe.train.batch_size
    if world_size > 1 and bs % world_size:
        lower = bs - bs % world_size
        upper = lower + world_size
        nearby = f"{lower} or {upper}" if lower > 0 else str(upper)
        raise RecipeError([Problem("train.batch_size", bs, f"with {world_size} processes, allowed: a multiple of "
                                   f"{world_size} (each process takes batch_size / {world_size} samples of every "
                                   f"batch), e.g. {nearby}")])


# --------------------------------------------------------------------------------------
# Model wrapping and synchronization


def wrap_model(model: nn.Module, ctx: DistContext) -> tuple[nn.Module, nn.Module]:
    """(module to keep and checkpoint, DDP wrapper to train with)."""
    from torch.nn.parallel import DistributedDataParallel as DDP

    if ctx.device.type == "cuda" and any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in model.modules()):
        model = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    if not any(p.requires_grad for p in model.parameters()):
        return model, model
    device_ids = [ctx.device.index] if ctx.device.type == "cuda" else None
    # Buffers (batch-norm running statistics) are averaged once per epoch by `average_buffers`
    # rather than broadcast from rank 0 before every forward pass.
    return model, DDP(model, device_ids=device_ids, broadcast_buffers=False)


def average_buffers(model: nn.Module, ctx: DistContext) -> None:
    """Average floating-point buffers (batch-norm running mean/var) across processes."""
    buffers = [b for b in model.buffers() if b.is_floating_point()]
    if not buffers:
        return
    flat = torch.cat([b.detach().reshape(-1).float() for b in buffers])
    dist.all_reduce(flat)
    flat /= ctx.world_size
    offset = 0
    for b in buffers:
        n = b.numel()
        b.copy_(flat[offset:offset + n].view_as(b))
        offset += n


def reduce_sum(values: list[float], ctx: DistContext) -> list[float]:
    """Element-wise sum over processes of a few numbers (one all-reduce)."""
    t = torch.tensor(values, dtype=torch.float64, device=ctx.device if ctx.backend == "nccl" else "cpu")
    dist.all_reduce(t)
    return t.tolist()


def any_process(flag: bool, ctx: DistContext) -> bool:
    """True on every process when ``flag`` is true on at least one."""
    return reduce_sum([1.0 if flag else 0.0], ctx)[0] > 0


def shard_range(n: int, ctx: DistContext) -> tuple[int, int]:
    """This process's contiguous share [lo, hi) of n items (sizes differ by at most one)."""
    base, extra = divmod(n, ctx.world_size)
    lo = ctx.rank * base + min(ctx.rank, extra)
    return lo, lo + base + (1 if ctx.rank < extra else 0)


def gather_rows(local: torch.Tensor, n: int, ctx: DistContext) -> torch.Tensor:
    """All-gather each process's shard (from `shard_range`) into the full [n, ...] tensor on every process."""
    size = shard_range(n, ctx)
    longest = -(-n // ctx.world_size)
    device = ctx.device if ctx.backend == "nccl" else torch.device("cpu")
    padded = torch.zeros((longest, *local.shape[1:]), dtype=local.dtype, device=device)
    padded[: size[1] - size[0]] = local.to(device)
    parts = [torch.empty_like(padded) for _ in range(ctx.world_size)]
    dist.all_gather(parts, padded)
    rows = []
    for rank, part in enumerate(parts):
        base, extra = divmod(n, ctx.world_size)
        rows.append(part[: base + (1 if rank < extra else 0)])
    return torch.cat(rows).cpu()


def evaluate_sharded(model: nn.Module, data: DataBundle, split: str, metrics: Sequence[str], ctx: DistContext,
                     batch_size: int = 1024) -> EvalResult:
    """Metrics of the full split: each process scores its shard, logits are gathered, sklearn scores them.

    Every process returns the same result. Image folders streamed from disk are scored whole on
    every process (their batches are not indexable).
    """
    from .evaluate import evaluate, evaluate_logits, predict_logits

    if data.lazy:
        return evaluate(model, data, split, list(metrics), batch_size)
    n = len(data.splits[split])
    lo, hi = shard_range(n, ctx)
    x = data.splits[split].x[lo:hi]
    device = next(model.parameters()).device
    local = predict_logits(model, data.prepare(x), batch_size, device) if hi > lo else \
        torch.empty((0, len(data.classes)))
    logits = gather_rows(local.float(), n, ctx)
    return evaluate_logits(logits, data.labels(split), data.classes, list(metrics), split)


# --------------------------------------------------------------------------------------
# Launching


@dataclass
class LaunchCommand:
    """A command line that trains a recipe file on ``nproc`` processes with torchrun."""

    args: list[str]
    recipe_path: str
    nproc: int
    notes: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        return shlex.join(self.args)

    def __str__(self) -> str:
        return self.text

    def table(self) -> str:
        return "\n".join([self.text, *(f"  note: {n}" for n in self.notes)])

    def to_dict(self) -> dict[str, Any]:
        return {"command": self.text, "args": self.args, "recipe_path": self.recipe_path, "nproc": self.nproc,
                "notes": self.notes}


def check_nproc(nproc: Any) -> int:
    if isinstance(nproc, bool) or not isinstance(nproc, int) or nproc < 1:
        from .errors import UsageError

        raise UsageError("--nproc", nproc, "allowed: a whole number of processes ≥ 1, e.g. 2")
    return nproc


def launch_command(recipe: Recipe | None = None, nproc: int = 2, *, recipe_path: str | Path = "recipe.json",
                 out: str | Path = "runs", sets: Sequence[str] = (), launcher: str = "torchrun",
                 write: bool = False) -> LaunchCommand:
    """The torchrun command line for a recipe (optionally writing the recipe file first).

    ``launcher``: ``torchrun`` (the standard launcher), ``python`` (``python -m torch.distributed.run``,
    when the torchrun script is not on PATH) or ``lepton-nb`` (``lepton-nb run --nproc N``).
    The recipe is validated, including that ``train.batch_size`` splits evenly across ``nproc``.
    """
    from .errors import UsageError

    nproc = check_nproc(nproc)
    if launcher not in ("torchrun", "python", "lepton-nb"):
        raise UsageError("launcher", launcher, "allowed: torchrun, python, lepton-nb")
    notes: list[str] = []
    if recipe is not None:
        recipe = recipe.check()
        check_batch_size(recipe, nproc)
        if write:
            recipe.to_file(recipe_path)
        if recipe.train.device != "cpu" and torch.cuda.is_available():
            notes.append(f"CUDA: nccl, one GPU per process ({torch.cuda.device_count()} here)")
        else:
            notes.append("CPU: gloo; each process uses one thread unless OMP_NUM_THREADS says otherwise")
    run_args = ["run", str(recipe_path), "--out", str(out), *[a for s in sets for a in ("--set", s)]]
    if launcher == "lepton-nb":
        args = ["lepton-nb", *run_args, "--nproc", str(nproc)]
    else:
        head = ["torchrun"] if launcher == "torchrun" else [sys.executable, "-m", "torch.distributed.run"]
        args = [*head, "--standalone", "--nproc_per_node", str(nproc), "-m", "lepton_nb", *run_args]
    return LaunchCommand(args, str(recipe_path), nproc, notes)


def torchrun_args(nproc: int, cli_args: Sequence[str]) -> list[str]:
    """``python -m torch.distributed.run --standalone --nproc_per_node N -m lepton_nb <cli_args>``."""
    return [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", str(nproc),
            "-m", "lepton_nb", *cli_args]
