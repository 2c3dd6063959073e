"""Export a run to TorchScript or ONNX, checked against PyTorch and timed.

``export(run, "onnx")`` writes ``<run>/export/model.onnx`` (torch.onnx, dynamic batch axis) with
a ``model.json`` beside it describing the input, the classes and the preprocessing, checks the file
with onnxruntime against PyTorch on real test inputs and times both; ``"torchscript"`` does the same
with torch.jit. Normalization is part of the exported graph: it takes images in [0, 1], token ids or
encoded table features.
"""

from __future__ import annotations

import copy
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..artifacts import Predictor, RunFolder, as_predictor, run_dir_of
from ..errors import ModelError, UsageError, user_path
from ..files import atomic_path, atomic_write, atomic_write_json
from ..models import merge_lora
from ..models.layers import plain_dropout
from ..models.quantize import quantization
from .timing import median_ms

FORMATS = ("onnx", "torchscript")
SUFFIX = {"onnx": ".onnx", "torchscript": ".torchscript.pt"}


@dataclass
class ExportResult:
    """What `export` wrote and how the exported file compares with PyTorch."""

    format: str
    path: Path
    metadata_path: Path
    size_bytes: int
    check_samples: int
    max_abs_diff: float
    agreement: float  # fraction of check samples with the same predicted class
    batch_size: int
    torch_ms: float
    runtime_ms: float
    runtime: str  # onnxruntime | torchscript

    @property
    def speedup(self) -> float:
        return self.torch_ms / self.runtime_ms if self.runtime_ms > 0 else math.nan

    def to_dict(self) -> dict[str, Any]:
        return {"format": self.format, "path": str(self.path), "metadata_path": str(self.metadata_path),
                "size_bytes": self.size_bytes, "check_samples": self.check_samples,
                "max_abs_diff": self.max_abs_diff, "agreement": self.agreement, "batch_size": self.batch_size,
                "torch_ms": self.torch_ms, "runtime_ms": self.runtime_ms, "runtime": self.runtime,
                "speedup": self.speedup}

    def rows(self) -> list[dict[str, Any]]:
        return [{"item": "file", "value": f"{self.path} ({self.size_bytes / 1024:.1f} KB)"},
                {"item": "max abs difference", "value": f"{self.max_abs_diff:.3g} ({self.runtime} vs PyTorch, "
                                                         f"{self.check_samples} samples)"},
                {"item": "same class", "value": f"{100 * self.agreement:.1f} %"},
                {"item": f"latency (batch {self.batch_size})",
                 "value": f"PyTorch {self.torch_ms:.3f} ms, {self.runtime} {self.runtime_ms:.3f} ms "
                          f"({self.speedup:.2f}× PyTorch's speed)"}]

    def table(self) -> str:
        return "\n".join([f"{self.format} export", *(f"  {r['item']:<22} {r['value']}" for r in self.rows())])


def export(source: Any, format: str = "onnx", path: str | Path | None = None, *, checkpoint: str = "auto",
           inputs: Any = None, batch_size: int = 64, repeats: int = 30, opset: int | None = None) -> ExportResult:
    """Export a run (a Run, a run folder, a Predictor or an ensemble) to ONNX or TorchScript.

    ``path`` defaults to ``<run folder>/export/model.onnx`` (or ``model.torchscript.pt``). The file
    is checked on real inputs — ``inputs`` (raw, as for ``predict``) or up to 256 samples of the run's
    test split — and ``batch_size`` samples are timed ``repeats`` times in PyTorch and in the runtime.
    """
    if format not in FORMATS:
        raise UsageError("format", format, f"allowed: {', '.join(FORMATS)}")
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise UsageError("batch_size", batch_size, "allowed: a whole number ≥ 1")
    predictor = as_predictor(source, checkpoint)
    if path is None:
        folder = run_dir_of(source)
        if folder is None:
            raise UsageError("path", None, f"this model has no run folder to export into; allowed: a file path, "
                             f"e.g. model{SUFFIX[format]}")
        path = RunFolder(folder).export_dir / f"model{SUFFIX[format]}"
    path = user_path(path, "path")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError("path", str(path), f"its folder cannot be created ({exc.strerror}); allowed: a file in a "
                         "folder you can write to") from None
    # a copy: the run's own model keeps its device, mode and seeded dropout
    model = plain_dropout(merge_lora(copy.deepcopy(predictor.model), inplace=True)).cpu().eval()
    check = predictor.prepare(inputs) if inputs is not None else predictor.sample_inputs()
    if len(check) < 2:
        raise UsageError("inputs", len(check), "allowed: at least 2 samples to check the export with")
    example = check[:2]
    if quantization(model) == "qint8":  # torch.jit crashed the process (SIGSEGV) on them in torch 2.14
        raise ModelError("checkpoint", checkpoint, "holds torchao int8 weights, which neither TorchScript nor "
                         "ONNX can serialize; allowed: export the float run (checkpoint auto, best or last) or its "
                         "float16 variant (lnb.quantize(run, 'float16'))")
    runtime, exporter = EXPORTERS[format]
    runner = exporter(model, example, path, opset, predictor)
    with torch.inference_mode():
        reference = model(check).float()
    exported = runner(check)
    diff = float((exported - reference).abs().max())
    agreement = float((exported.argmax(1) == reference.argmax(1)).float().mean())
    timed = torch.cat([check] * math.ceil(batch_size / len(check)))[:batch_size]
    with torch.inference_mode():
        torch_ms = median_ms(lambda: model(timed), repeats)
    runtime_ms = median_ms(lambda: runner(timed), repeats)
    meta_path = path.with_name(path.name.removesuffix(SUFFIX[format]) + ".json")
    meta = {"format": format, "file": path.name, "run": predictor.name,
            "input": {"name": "input", "dtype": "int64" if predictor.preprocessor.input_dtype == torch.long
                      else "float32", "shape": ["batch", *predictor.spec.input_shape]},
            "output": {"name": "logits", "shape": ["batch", len(predictor.classes)]},
            "classes": predictor.classes, "preprocessing": predictor.preprocessor.to_dict(),
            "check": {"samples": len(check), "max_abs_diff": diff, "agreement": agreement}}
    atomic_write_json(meta_path, meta, indent=2)
    return ExportResult(format, path, meta_path, path.stat().st_size, len(check), diff, agreement, batch_size,
                        torch_ms, runtime_ms, runtime)


def _export_onnx(model: nn.Module, example: torch.Tensor, path: Path, opset: int | None,
                 predictor: Predictor) -> Callable[[torch.Tensor], torch.Tensor]:
    try:
        import onnx
        import onnxruntime as ort
    except ImportError as exc:
        raise UsageError("format", "onnx", f"needs the onnx, onnxscript and onnxruntime packages ({exc.name} is "
                         "missing): pip install 'lepton_nb[export]'; or use format torchscript") from None
    if any(isinstance(m, nn.LSTM) for m in model.modules()):
        raise ModelError("format", "onnx", "this model (text_bilstm) packs variable-length sequences, which "
                         "torch.onnx cannot export; allowed: torchscript for this model, or arch text_cnn")
    batch = torch.export.Dim("batch", min=1, max=1 << 20)
    try:
        with atomic_path(path) as tmp, warnings.catch_warnings():  # a file is in place only once it checks out
            warnings.simplefilter("ignore")
            torch.onnx.export(model, (example,), str(tmp), input_names=["input"], output_names=["logits"],
                              dynamic_shapes=({0: batch},), opset_version=opset, dynamo=True, external_data=False,
                              verbose=False)
            onnx.checker.check_model(str(tmp))
    except Exception as exc:  # the exporter raises many types; report its first line
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ModelError("format", "onnx", f"torch.onnx could not export this {predictor.spec.kind} model "
                         f"({first[:300]}); allowed: torchscript") from None
    options = ort.SessionOptions()
    options.intra_op_num_threads = torch.get_num_threads()
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])

    def run(x: torch.Tensor) -> torch.Tensor:
        return torch.from_numpy(np.asarray(session.run(None, {"input": x.numpy()})[0]))

    return run


def _export_torchscript(model: nn.Module, example: torch.Tensor, path: Path) -> Callable[[torch.Tensor], torch.Tensor]:
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", message=r".*torch\.jit.*deprecated.*")
        warnings.filterwarnings("ignore", category=DeprecationWarning)
        try:
            scripted = torch.jit.script(model)
        except Exception as exc:  # scripting rejects some Python constructs; tracing records one example
            try:
                scripted = torch.jit.trace(model, (example,), check_trace=False)
            except Exception:
                raise ModelError("format", "torchscript", f"torch.jit could not compile this model "
                                 f"({str(exc).splitlines()[0][:300]}); allowed: onnx") from None
        atomic_write(path, lambda fh: torch.jit.save(scripted, fh))
        loaded = torch.jit.load(str(path), map_location="cpu").eval()

    def run(x: torch.Tensor) -> torch.Tensor:
        with torch.inference_mode():
            return loaded(x).float()

    return run


# FORMATS' names → the runtime that runs the exported file, and how to export to it (a runner of the file comes back)
EXPORTERS: dict[str, tuple[str, Callable[..., Callable[[torch.Tensor], torch.Tensor]]]] = {
    "onnx": ("onnxruntime", lambda model, example, path, opset, predictor: _export_onnx(model, example, path, opset,
                                                                                       predictor)),
    "torchscript": ("torchscript", lambda model, example, path, opset, predictor: _export_torchscript(model, example,
                                                                                                     path)),
}
