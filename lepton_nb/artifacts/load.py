"""Loading a run folder for inference: `load_run` rebuilds the model from the folder alone.

A run folder is self-describing (see `run_folder`): the recipe gives the architecture and data
settings, ``data.json`` the class names, normalization statistics, vocabulary or table encoder, and
the checkpoints (loaded with ``weights_only=True``) the weights. ``load_run(folder).predict(inputs)``
takes raw inputs (see `predictor`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..data.bundle import DataSpec
from ..errors import CheckpointError, UsageError, user_path
from ..models import build_model, has_adapters, merge_lora
from ..models.adapters import is_adapter_key
from ..models.quantize import quantize_model
from ..recipe import Recipe
from ..robust.curve import whole_curve
from ..training.checkpoint import load_checkpoint
from .predictor import Predictor, Preprocessor
from .run import Run
from .run_folder import CHECKPOINT_CHOICES, UNFINISHED, RunFolder


def load_run(path: str | Path, checkpoint: str = "auto", *, device: str | torch.device = "cpu") -> Run:
    """Rebuild a finished run from its folder: recipe, data description, weights, history, metrics.

    ``checkpoint``: ``auto`` (the weights the run ended with, which its test metrics describe:
    ``best`` after early stopping or divergence, ``last`` otherwise), ``best``, ``last``, or a file
    (e.g. ``optimized/quantized-int8.pt``, written by `lepton_nb.optimize`). Weights are loaded with
    ``torch.load(weights_only=True)``; the data is not loaded until needed (``run.load_data()``).

    A folder whose process ended early (killed) loads as status ``unfinished`` with its history up to its last
    checkpoint and a message saying how to resume it, or is refused with a `LeptonError` saying what is missing;
    temporary files of dead writers are removed.
    """
    folder = RunFolder(path)
    if not folder.path.is_dir():
        raise UsageError("run", str(path), "no such run folder; allowed: a folder written by lnb.train or "
                         "lepton-nb run (with recipe.json, data.json and checkpoints/)")
    folder.remove_stale_temp_files()
    recipe = folder.read_recipe()
    described = folder.read_description()
    spec, norm, vocab, encoder = described.spec, described.norm, described.vocab, described.encoder
    ckpt = folder.checkpoint(checkpoint, field="run")
    model = model_from_checkpoint(recipe, spec, ckpt).to(device)
    history = folder.read_history()
    metrics = folder.read_metrics()
    test = metrics.get("test") or {}
    stored = {"loss": test["loss"], **test.get("metrics", {})} if test else {}
    try:
        seconds = float(metrics.get("seconds") or 0.0)
    except (TypeError, ValueError):
        seconds = 0.0
    status, message = metrics.get("status", "unknown"), str(metrics.get("message", ""))
    if not folder.finished():
        status, message = UNFINISHED, folder.unfinished_message(history)
    run = Run(recipe, folder.path, history, model, None, spec, norm, status, message, None, seconds,
              str(history.meta.get("started", "")), metrics.get("best_epoch"),
              extras={"test_metrics": stored, "checkpoint": str(ckpt)},
              preprocessor=Preprocessor(spec, vocab, recipe.data.max_len if spec.kind == "text" else 0, encoder))
    if isinstance(metrics.get("parameters"), dict):
        run.extras["parameters"] = metrics["parameters"]
    curve = folder.read_robustness()
    if curve is not None and whole_curve(curve):  # a damaged curve is left out, never half shown
        run.extras["robustness"] = curve
    return run


def model_from_checkpoint(recipe: Recipe, spec: DataSpec, ckpt: Path) -> nn.Module:
    """The recipe's architecture with a checkpoint's weights (re-quantized first if it holds an int8 model)."""
    state = load_checkpoint(ckpt)
    weights = state.get("model")
    if not isinstance(weights, dict):
        raise CheckpointError("checkpoint", str(ckpt), f"holds no model weights; allowed: "
                              f"{', '.join(CHECKPOINT_CHOICES)} or a file written by lepton_nb")
    model = build_model(recipe.model, spec)
    if has_adapters(model) and not any(is_adapter_key(k) for k in weights):  # compressed: saved merged
        model = merge_lora(model, inplace=True)
    if state.get("quantized"):
        model = quantize_model(model.eval(), str(state["quantized"]))
    if state.get("quantized") and any("_packed_params" in str(k) for k in weights):
        raise CheckpointError("checkpoint", str(ckpt), "was quantized by an older lepton_nb through torch.ao."
                              "quantization, which torch deprecated (lepton_nb now quantizes with torchao); "
                              "allowed: quantize the run again: lepton-nb optimize RUN_FOLDER, or lnb.quantize(run)")
    try:
        model.load_state_dict(weights)
    except Exception as exc:  # torch raises several types for weights of another shape, type or model
        raise CheckpointError("checkpoint", str(ckpt), f"does not fit the recipe's model ({str(exc)[:300]}); "
                              "allowed: a checkpoint of this run") from None
    return merge_lora(model, inplace=True).eval()  # LoRA folded into the weights: a plain model to use and export


def as_predictor(source: Any, checkpoint: str = "auto") -> Predictor:
    """A `Predictor` from a Predictor, a Run, a run folder, or anything with a ``predictor`` (an ensemble)."""
    if isinstance(source, Predictor):
        return source
    if isinstance(source, Run):
        if checkpoint != "auto" and source.dir is not None:
            return load_run(source.dir, checkpoint).predictor()
        return source.predictor()
    if isinstance(source, (str, Path)):
        return load_run(source, checkpoint).predictor()
    predictor = getattr(source, "predictor", None)
    if isinstance(predictor, Predictor):
        return predictor
    raise UsageError("run", type(source).__name__, "allowed: a Run, a run folder, a Predictor or an ensemble")


def run_dir_of(source: Any) -> Path | None:
    if isinstance(source, Run):
        return source.dir
    if isinstance(source, (str, Path)):
        return user_path(source, "run")
    return None
