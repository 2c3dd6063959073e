"""How each run started and what it cost: the comparison of training from scratch, fine-tuning a pretrained
encoder (every weight, or the head only) and LoRA adapters — trainable parameters, accuracy, time, size.

The rows are read from what the runs recorded (their recipe, ``extras["parameters"]`` and the checkpoint on
disk), never recomputed from a model that may have been released.
"""

from __future__ import annotations

from typing import Any

from ..errors import LeptonError
from ..recipe import Recipe
from .run import Run
from .run_folder import RunFolder


def start_of(recipe: Recipe, pretraining: bool = False) -> str:
    """In words: where the run's weights came from and which of them trained."""
    if pretraining:
        return "pretraining: masked tokens, no labels"
    m = recipe.model
    source = "pretrained encoder" if m.init_from else "ImageNet weights" if m.pretrained else "from scratch"
    if m.adapter.kind == "lora":
        targets = ", ".join(m.adapter.targets) or "attention projections"
        trains = f"LoRA r={m.adapter.r} on {targets}" + ("" if m.freeze == "all_but_adapters" else " + head")
        if m.freeze == "none":
            trains += " + all weights"
    elif m.freeze == "features":
        trains = "head only"
    else:
        trains = "all weights"
    return f"{source}, {trains}"


def is_transfer(run: Run) -> bool:
    """A pretraining run, or a run that starts from other weights or trains adapters."""
    m = run.recipe.model
    return "pretrain" in run.extras or bool(m.init_from) or m.pretrained or m.adapter.kind != "none"


def checkpoint_megabytes(run: Run) -> float | None:
    """Size of the checkpoint the run's results come from (None without a run folder or checkpoint)."""
    if run.dir is None:
        return None
    try:
        return RunFolder(run.dir).checkpoint("auto").stat().st_size / 1e6
    except (LeptonError, OSError):
        return None


def transfer_row(run: Run) -> dict[str, Any]:
    """One row of the comparison: run, start, trainable parameters (and their share), accuracy, time, size.

    Accuracy is the test accuracy of a classifier and the masked-token accuracy of a pretraining run.
    """
    params = run.extras.get("parameters") or {}
    trainable, total = params.get("trainable"), params.get("total")
    pretraining = "pretrain" in run.extras
    acc = (run.extras["pretrain"].get("masked_accuracy") if pretraining else run.metrics.get("accuracy"))
    size = checkpoint_megabytes(run)
    seen = run.history.meta.get("held_out_seen") if run.history is not None else None
    caveat = (f" (its initial weights read {seen['seen']} of these {seen['of']} test sentences)"
              if isinstance(seen, dict) and seen.get("seen") else "")
    return {"run": run.name, "start": start_of(run.recipe, pretraining),
            "trainable": f"{trainable:,}" if trainable is not None else "–",
            "share": f"{100 * trainable / total:.1f} %" if trainable is not None and total else "–",
            "accuracy": f"{100 * acc:.1f} %" + (" (masked tokens)" if pretraining else caveat) if acc is not None
            else "–",
            "time": f"{run.seconds:.1f} s", "checkpoint": f"{size:.2f} MB" if size is not None else "–"}
