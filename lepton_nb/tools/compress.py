"""Smaller models from a finished run: weight quantization and magnitude pruning, compared.

* `quantize` — torchao's ``Int8WeightOnlyConfig`` (see `lepton_nb.models.quantize`): int8 weights (one scale per
  output channel) for the Linear layers, computed in float32; ``float16`` stores them in float16. Convolutions,
  embeddings and LSTMs stay float32, so CNNs shrink less than MLPs.
* `prune` — ``torch.nn.utils.prune``: the smallest-magnitude weights of the Linear, Conv, LSTM and
  Embedding layers set to zero (L1 unstructured; ``scope="global"`` ranks all of them together,
  ``"layer"`` prunes each layer by the same fraction), then made permanent. The tensors stay dense,
  so the file is as large as before; zeros compress, so the zipped size shows what pruning saves.
* `optimize` — both, in one table.

A run with LoRA adapters is compressed after its adapters are merged into the layers they adapt (as `load_run`
and export do): pruning ``A`` and ``B`` as separate tensors would zero most of the small ``B`` and keep
adapter keys in the file.

Each variant is measured the same way: size of its checkpoint on disk (and zipped), median latency
of a batch of real inputs (normalization included), and the recipe's metrics on the test split
(sklearn). Files are written to ``<run>/optimized/`` and load back with
``lnb.load_run(run_dir, checkpoint="optimized/quantized-qint8.pt")``.
"""

from __future__ import annotations

import copy
import io
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..artifacts import InferenceModel, Predictor, RunFolder, as_predictor, run_dir_of
from ..errors import UsageError
from ..evaluation import evaluate_logits
from ..models import merge_lora
from ..models.quantize import QUANT_DTYPES, is_quantized, quantize_model, quantized_layers
from ..training.checkpoint import save_checkpoint
from ..training.control import Control
from .timing import median_ms

PRUNE_SCOPES = ("global", "layer")
VARIANT_NAMES = {"qint8": "int8 weights", "float16": "float16 weights"}  # the table's row names


def prunable(model: nn.Module) -> list[tuple[nn.Module, str]]:
    """(module, parameter name) of every weight matrix/kernel pruning applies to."""
    out: list[tuple[nn.Module, str]] = []
    for module in model.modules():
        if isinstance(module, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Embedding)):
            out.append((module, "weight"))
        elif isinstance(module, nn.LSTM):
            out += [(module, name) for name, _ in module.named_parameters(recurse=False) if name.startswith("weight")]
    return out


def prune_model(model: nn.Module, amount: float, scope: str = "global") -> tuple[nn.Module, float]:
    """A pruned copy of ``model`` (zeros made permanent) and the sparsity of its prunable weights."""
    check_amount(amount)
    if scope not in PRUNE_SCOPES:
        raise UsageError("scope", scope, f"allowed: {', '.join(PRUNE_SCOPES)}")
    from torch.nn.utils import prune

    pruned = merge_lora(copy.deepcopy(model), inplace=True).cpu().eval()  # never prune LoRA's A and B apart
    targets = prunable(pruned)
    if not targets:
        raise UsageError("amount", amount, "this model has no Linear, Conv, LSTM or Embedding weights to prune")
    if scope == "global":
        prune.global_unstructured(targets, pruning_method=prune.L1Unstructured, amount=amount)
    else:
        for module, name in targets:
            prune.l1_unstructured(module, name, amount=amount)
    for module, name in targets:
        prune.remove(module, name)
    return pruned, sparsity(pruned)


def sparsity(model: nn.Module) -> float:
    """Fraction of exact zeros among the prunable weights."""
    weights = [getattr(m, name) for m, name in prunable(model)]
    total = sum(w.numel() for w in weights)
    return sum(int((w == 0).sum()) for w in weights) / total if total else 0.0


def check_amount(amount: Any) -> float:
    if isinstance(amount, bool) or not isinstance(amount, (int, float)) or not 0 < amount < 1:
        raise UsageError("amount", amount, "allowed: the fraction of weights to prune, between 0 and 1 (exclusive), "
                         "e.g. 0.5")
    return float(amount)


# --------------------------------------------------------------------------------------
# Results


@dataclass
class Variant:
    """One version of the model and what it measured."""

    name: str
    size_bytes: int
    zipped_bytes: int
    latency_ms: float
    metrics: dict[str, float]
    sparsity: float
    detail: str = ""
    path: Path | None = None
    model: nn.Module | None = field(default=None, repr=False)  # an InferenceModel (normalization + classifier)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "size_bytes": self.size_bytes, "zipped_bytes": self.zipped_bytes,
                "latency_ms": self.latency_ms, "metrics": self.metrics, "sparsity": self.sparsity,
                "detail": self.detail, "path": str(self.path) if self.path else None}


@dataclass
class OptimizeResult:
    """Original vs optimized variants: size on disk, latency per batch, metrics before/after."""

    run: str
    split: str
    samples: int
    batch_size: int
    variants: list[Variant]
    metric: str = "accuracy"
    status: str = "completed"

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise UsageError("variant", name, f"allowed: {', '.join(v.name for v in self.variants)}")

    def rows(self) -> list[dict[str, Any]]:
        """One row per variant, ready for a table widget."""
        base = self.variants[0] if self.variants else None
        rows = []
        for v in self.variants:
            value = v.metrics.get(self.metric, float("nan"))
            ref = base.metrics.get(self.metric, float("nan")) if base else float("nan")
            rows.append({"variant": v.name, "size_kb": round(v.size_bytes / 1024, 1),
                         "zipped_kb": round(v.zipped_bytes / 1024, 1), "ms_per_batch": round(v.latency_ms, 3),
                         "sparsity": round(v.sparsity, 4), self.metric: round(value, 4),
                         f"delta_{self.metric}": round(value - ref, 4)})
        return rows

    def table(self) -> str:
        head = (f"{'variant':<22} {'size KB':>9} {'zipped KB':>10} {'ms/batch':>9} {'sparsity':>9} "
                f"{self.metric:>10} {'Δ':>8}")
        lines = [f"{self.run}: {self.split} split ({self.samples} samples), latency of batch {self.batch_size}"
                 + ("" if self.status == "completed" else f" — {self.status}"), head]
        for r in self.rows():
            lines.append(f"{r['variant']:<22} {r['size_kb']:>9.1f} {r['zipped_kb']:>10.1f} {r['ms_per_batch']:>9.3f} "
                         f"{100 * r['sparsity']:>8.1f}% {r[self.metric]:>10.4f} {r[f'delta_{self.metric}']:>+8.4f}")
        lines += [f"  {v.name}: {v.detail}" for v in self.variants if v.detail]
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "split": self.split, "samples": self.samples, "batch_size": self.batch_size,
                "metric": self.metric, "status": self.status, "variants": [v.to_dict() for v in self.variants],
                "rows": self.rows()}


# --------------------------------------------------------------------------------------
# Measuring


class _Bench:
    """Shared inputs and measurements for every variant of one run."""

    def __init__(self, predictor: Predictor, split: str, batch_size: int, repeats: int, folder: Path | None):
        self.predictor = predictor
        data = predictor.load_data()
        if split not in data.splits or not len(data.splits[split]):
            allowed = [k for k, s in data.splits.items() if len(s)]
            raise UsageError("split", split, f"allowed: {', '.join(allowed)} (splits with samples)")
        self.split, self.data = split, data
        self.x, self.y = predictor.split_inputs(split, data)
        sample = self.x if len(self.x) else predictor.sample_inputs()
        self.batch = torch.cat([sample] * -(-batch_size // len(sample)))[:batch_size]
        self.batch_size, self.repeats, self.folder = batch_size, repeats, folder
        self.metrics = list(predictor.recipe.evaluate.metrics) if predictor.recipe else ["accuracy"]

    def measure(self, name: str, classifier: nn.Module, state: dict[str, Any], detail: str,
                file_name: str | None) -> Variant:
        model = _single_model(self.predictor).with_model(classifier)
        size, zipped, path = self._size(state, file_name)
        probe = Predictor(model, self.predictor.preprocessor)
        with torch.inference_mode():
            latency_ms = median_ms(lambda: model(self.batch), self.repeats)
        logits = probe.logits(self.x, prepared=True)
        metrics = evaluate_logits(logits, self.y, self.data.classes, self.metrics, self.split).metrics
        return Variant(name, size, zipped, latency_ms, metrics,
                       sparsity(classifier) if not is_quantized(classifier) else 0.0, detail, path, model)

    def _size(self, state: dict[str, Any], file_name: str | None) -> tuple[int, int, Path | None]:
        if self.folder is not None and file_name is not None:
            path = save_checkpoint(self.folder / file_name, state)
            data = path.read_bytes()
            return len(data), len(zlib.compress(data, 6)), path
        buffer = io.BytesIO()  # the bytes the file would hold, measured without writing one
        torch.save(state, buffer)
        data = buffer.getvalue()
        return len(data), len(zlib.compress(data, 6)), None


def _single_model(predictor: Predictor) -> InferenceModel:
    if not isinstance(predictor.model, InferenceModel):
        raise UsageError("run", predictor.name, "allowed: a single run (an ensemble cannot be quantized or pruned "
                         "as one model; optimize its members)")
    return predictor.model


def _count(model: nn.Module, types: tuple[type, ...]) -> int:
    return sum(1 for m in model.modules() if isinstance(m, types))


def optimize(run: Any, *, quantize: bool | str = True, prune: float | Sequence[float] | None = 0.5,
             scope: str = "global", checkpoint: str = "auto", split: str = "test", batch_size: int = 256,
             repeats: int = 20, save: bool = True, control: Control | None = None) -> OptimizeResult:
    """Compare the run's model with its quantized and/or pruned versions in one table.

    ``run``: a Run, a run folder or a Predictor of one run. ``quantize``: True (int8), a dtype name
    (``qint8``, ``float16``) or False. ``prune``: a fraction (or several) of weights to zero, or None.
    ``save`` writes each variant to ``<run>/optimized/``. A ``control`` stops between variants
    (the result then has ``status == "stopped"`` and the variants measured so far).
    """
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError("batch_size", batch_size, "allowed: a whole number ≥ 1")
    dtype = "qint8" if quantize is True else quantize or None
    if dtype is not None and dtype not in QUANT_DTYPES:
        raise UsageError("quantize", quantize, f"allowed: true, false or one of {', '.join(QUANT_DTYPES)}")
    amounts = [] if prune is None else [prune] if isinstance(prune, (int, float)) else list(prune)
    amounts = [check_amount(a) for a in amounts]
    if scope not in PRUNE_SCOPES:
        raise UsageError("scope", scope, f"allowed: {', '.join(PRUNE_SCOPES)}")
    if dtype is None and not amounts:
        raise UsageError("quantize", quantize, "nothing to compare: allowed: quantize true and/or prune a fraction")
    predictor = as_predictor(run, checkpoint)
    folder = run_dir_of(run)
    out = RunFolder(folder).optimized_dir if (save and folder is not None) else None
    bench = _Bench(predictor, split, batch_size, repeats, out)
    control = control or Control()
    # the run's model stays as it is; its LoRA adapters (if any) are folded into plain layers first, so every
    # variant is the model the recipe describes and what pruning ranks are the weights the model computes with
    original = merge_lora(copy.deepcopy(_single_model(predictor).model), inplace=True).cpu().eval()
    result = OptimizeResult(predictor.name, split, len(bench.y), batch_size, [],
                            "accuracy" if "accuracy" in bench.metrics else bench.metrics[0])
    n_params = sum(p.numel() for p in original.parameters())
    result.variants.append(bench.measure("original (float32)", original, {"model": original.state_dict()},
                                         f"{n_params:,} parameters", None))
    if dtype is not None:
        if control.stop_requested:
            result.status = "stopped"
            return result
        q = quantize_model(original, dtype)
        others = [f"{n} {kind}" for kind, n in (("conv", _count(original, (nn.Conv1d, nn.Conv2d))),
                                                 ("LSTM", _count(original, (nn.LSTM,))),
                                                 ("embedding", _count(original, (nn.Embedding,)))) if n]
        detail = f"{QUANT_DTYPES[dtype]} in {quantized_layers(q)} Linear layer(s)" + (
            f"; {', '.join(others)} layer(s) stay float32" if others else "")
        result.variants.append(bench.measure(VARIANT_NAMES[dtype], q, {"model": q.state_dict(), "quantized": dtype},
                                             detail, f"quantized-{dtype}.pt"))
    for amount in amounts:
        if control.stop_requested:
            result.status = "stopped"
            return result
        pruned, reached = prune_model(original, amount, scope)
        tag = f"{round(100 * amount)}" + ("" if scope == "global" else "-layer")
        detail = (f"{100 * reached:.1f}% of {len(prunable(pruned))} weight tensors zero ({scope} L1 magnitude); "
                  "dense storage, so the zipped size shows the saving")
        result.variants.append(bench.measure(f"pruned {100 * amount:g}% ({scope})", pruned,
                                             {"model": pruned.state_dict(), "pruned": {"amount": amount,
                                                                                      "scope": scope}},
                                             detail, f"pruned-{tag}.pt"))
    return result


def quantize(run: Any, dtype: str = "qint8", **kwargs: Any) -> OptimizeResult:
    """Original vs dynamically quantized model (see `optimize` for the keyword arguments)."""
    return optimize(run, quantize=dtype, prune=None, **kwargs)


def prune(run: Any, amount: float = 0.5, scope: str = "global", **kwargs: Any) -> OptimizeResult:
    """Original vs magnitude-pruned model (see `optimize` for the keyword arguments)."""
    return optimize(run, quantize=False, prune=amount, scope=scope, **kwargs)
