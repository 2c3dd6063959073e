"""The command line that trains a recipe on N processes with torchrun (see `lepton_nb.training.strategy`)."""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch

from ..errors import UsageError
from ..recipe import Recipe
from ..training.strategy import check_batch_size


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
