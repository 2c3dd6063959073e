"""Inference on raw inputs: the preprocessing a run was trained with, and a model that normalizes itself.

A `Predictor` is what a trained run becomes for use: ``predictor.predict(inputs)`` takes inputs as a
person has them — images as uint8 or [0, 1] float arrays/tensors, image files or PIL images; sentences
as strings; table rows as a pandas DataFrame (or dict) — and returns class names.

Two stages, so that the second can be exported (TorchScript/ONNX) as one self-contained graph:

1. `Preprocessor` (Python): decode, resize, tokenize with the run's vocabulary, or encode table
   columns with the run's fitted imputer/one-hot state → a tensor of *raw-scaled* inputs
   (images in [0, 1], token ids, unnormalized features);
2. `InferenceModel` (torch): the run's normalization (statistics of its train split) followed by
   the classifier → logits.
"""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data import DataBundle, build_data
from ..data.bundle import DataSpec
from ..data.images import read_image
from ..data.normalize import NormStats
from ..data.subword import SubwordVocab
from ..data.tabular import TableEncoder
from ..data.text import Vocab
from ..errors import DataError, UsageError
from ..evaluation import EvalResult, evaluate_logits
from ..recipe import DATA_KINDS, Recipe


class Normalize(nn.Module):
    """``(x - shift) / scale`` per channel (images) or feature (tables); identity without statistics."""

    def __init__(self, norm: NormStats, ndim: int):
        super().__init__()
        shape = (1, -1) + (1,) * (ndim - 1)  # ndim: dimensions of one sample
        active = norm.method != "none" and bool(norm.shift)
        self.active = active
        self.register_buffer("shift", torch.tensor(norm.shift if active else [0.0], dtype=torch.float32).view(shape))
        self.register_buffer("scale", torch.tensor(norm.scale if active else [1.0], dtype=torch.float32).view(shape))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.active:
            return x
        return (x - self.shift) / self.scale


class InferenceModel(nn.Module):
    """Normalization followed by the classifier: raw-scaled inputs → logits (what is exported)."""

    def __init__(self, model: nn.Module, norm: NormStats, spec: DataSpec):
        super().__init__()
        self.normalize = Normalize(norm, len(spec.input_shape))
        self.model = model
        self.takes_ids = DATA_KINDS[spec.kind].tokens

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.takes_ids:
            return self.model(x)
        return self.model(self.normalize(x))

    def with_model(self, model: nn.Module) -> InferenceModel:
        """The same normalization in front of another classifier (e.g. a quantized or pruned copy)."""
        new = InferenceModel.__new__(InferenceModel)
        nn.Module.__init__(new)
        new.normalize = copy.deepcopy(self.normalize).to(device_of(model))
        new.model = model
        new.takes_ids = self.takes_ids
        return new.eval()


@dataclass
class Preprocessor:
    """Raw inputs → the tensor an `InferenceModel` takes; built from a bundle or a run folder's JSON."""

    spec: DataSpec
    vocab: Vocab | SubwordVocab | None = None
    max_len: int = 0
    encoder: TableEncoder | None = None

    @classmethod
    def from_bundle(cls, data: DataBundle, max_len: int = 0) -> Preprocessor:
        return cls(data.spec(), data.vocab, max_len or (data.input_shape[0] if DATA_KINDS[data.kind].tokens else 0),
                   data.encoder)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready description: enough for a deployment to prepare inputs without lepton_nb."""
        out: dict[str, Any] = {"kind": self.spec.kind, "input_shape": list(self.spec.input_shape),
                               "classes": list(self.spec.classes)}
        if DATA_KINDS[self.spec.kind].pixels:
            out["input"] = ("float32 images [batch, channels, height, width] scaled to [0, 1] (uint8 / 255); "
                            "normalization is part of the model")
        elif DATA_KINDS[self.spec.kind].tokens:
            out["input"] = ("int64 token ids [batch, max_len]: lower-cased words (regex "
                            "[a-z0-9]+(?:'[a-z]+)?|[!?]) looked up in vocab (1 = unknown), padded with 0")
            out["max_len"] = self.max_len
            out["vocab"] = self.vocab.words if self.vocab is not None else []
            if isinstance(self.vocab, SubwordVocab):
                out["input"] += f"; then split into {self.vocab.kind} pieces by the `tokenizer` (HF tokenizers JSON)"
                out["tokenizer"] = self.vocab.to_dict()["tokenizer"]
        else:
            out["input"] = ("float32 features [batch, n_features]: numeric columns with missing values filled, "
                            "then one-hot categories; normalization is part of the model")
            out["feature_names"] = list(self.spec.feature_names)
            out["encoder"] = self.encoder.to_dict() if self.encoder is not None else None
        return out

    @property
    def input_dtype(self) -> torch.dtype:
        return torch.long if DATA_KINDS[self.spec.kind].tokens else torch.float32

    def __call__(self, inputs: Any) -> torch.Tensor:
        kind = self.spec.kind
        if kind == "image":
            return self._images(inputs)
        if kind == "text":
            return self._texts(inputs)
        return self._table(inputs)

    # ---- images ------------------------------------------------------------------------------

    def _images(self, inputs: Any) -> torch.Tensor:
        shape = list(self.spec.input_shape)
        if _is_file_list(inputs) or _is_pil(inputs):
            items = [inputs] if (isinstance(inputs, (str, Path)) or _is_pil(inputs)) else list(inputs)
            return torch.stack([self._load_image(item) for item in items]).float() / 255.0
        x = _as_tensor(inputs, "inputs")
        if x.dtype == torch.bool or x.is_complex():
            raise DataError("inputs", str(x.dtype), "allowed: uint8 images (0..255) or float images in [0, 1]")
        c, hw = shape[0], shape[1:]
        if list(x.shape) == shape:
            x = x.unsqueeze(0)  # one image [C, H, W]
        elif c == 1 and list(x.shape) == hw:
            x = x[None, None]  # one grey image [H, W]
        elif c == 1 and x.dim() == 3 and list(x.shape[1:]) == hw:
            x = x.unsqueeze(1)  # grey images [N, H, W]
        elif x.dim() == 3 and list(x.shape) == [*hw, c]:
            x = x.permute(2, 0, 1).unsqueeze(0)  # one channels-last image [H, W, C] (numpy/PIL layout)
        elif x.dim() == 4 and list(x.shape[1:]) == [*hw, c] and list(x.shape[1:]) != shape:
            x = x.permute(0, 3, 1, 2)  # channels-last images [N, H, W, C]
        if x.dim() != len(shape) + 1 or list(x.shape[1:]) != shape:
            raise DataError("inputs", list(x.shape), f"allowed: images of shape {shape} (or a batch "
                            f"[N, {', '.join(map(str, shape))}]), image files or PIL images of any size")
        return finite(x.float() / 255.0 if x.dtype == torch.uint8 else x.float())

    def _load_image(self, item: Any) -> torch.Tensor:
        """An image file or PIL image converted as training images were (`lepton_nb.data.images`)."""
        c, h, w = self.spec.input_shape
        arr, _ = read_image(item, (w, h), c, field="inputs")
        t = torch.from_numpy(arr.copy())
        return t.unsqueeze(0) if c == 1 else t.permute(2, 0, 1)

    # ---- text --------------------------------------------------------------------------------

    def _texts(self, inputs: Any) -> torch.Tensor:
        if isinstance(inputs, str):
            inputs = [inputs]
        if isinstance(inputs, (torch.Tensor, np.ndarray)) and not (isinstance(inputs, np.ndarray)
                                                                   and inputs.dtype.kind in "UO"):
            ids = torch.as_tensor(inputs)
            if ids.dtype not in (torch.int64, torch.int32) or ids.dim() != 2 or ids.shape[1] != self.max_len:
                raise DataError("inputs", f"{ids.dtype} {list(ids.shape)}", f"allowed: sentences (str or a list "
                                f"of str), or token ids of shape [N, {self.max_len}]")
            return ids.long()
        texts = list(inputs)
        if not all(isinstance(t, str) for t in texts):
            bad = next(t for t in texts if not isinstance(t, str))
            raise DataError("inputs", bad, "allowed: sentences (str or a list of str)")
        assert self.vocab is not None
        return self.vocab.encode(texts, self.max_len)

    # ---- tables ------------------------------------------------------------------------------

    def _table(self, inputs: Any) -> torch.Tensor:
        n_features = self.spec.input_shape[0]
        if isinstance(inputs, dict):
            import pandas as pd

            inputs = pd.DataFrame([inputs])
        if hasattr(inputs, "columns") and hasattr(inputs, "iloc"):
            if self.encoder is None:
                raise DataError("inputs", "DataFrame", f"this run has no table encoder; allowed: a float array "
                                f"[N, {n_features}]")
            return finite(self.encoder.transform(inputs))
        x = _as_tensor(inputs, "inputs").float()
        if x.dim() == 1:
            x = x.unsqueeze(0)
        if x.dim() != 2 or x.shape[1] != n_features:
            raise DataError("inputs", list(x.shape), f"allowed: a pandas DataFrame with the columns "
                            f"{', '.join(self.encoder.columns) if self.encoder else '?'}, or encoded features "
                            f"[N, {n_features}]")
        return finite(x)


def finite(x: torch.Tensor) -> torch.Tensor:
    """``x`` when every value is finite; otherwise a `DataError` naming the first sample and position."""
    bad = ~torch.isfinite(x)
    if bad.any():
        where = tuple(torch.nonzero(bad)[0].tolist())
        raise DataError("inputs", f"sample {where[0]}", f"holds {float(x[where])} at {where[1:]}; allowed: finite "
                        "values (a missing table cell may be left empty: it is filled as in training)")
    return x


def _as_tensor(inputs: Any, field: str) -> torch.Tensor:
    if isinstance(inputs, torch.Tensor):
        return inputs.detach().cpu()
    try:
        return torch.as_tensor(np.asarray(inputs))
    except (TypeError, ValueError, RuntimeError) as exc:
        raise DataError(field, type(inputs).__name__, f"cannot be read as an array ({exc})") from None


def _is_pil(x: Any) -> bool:
    return type(x).__module__.startswith("PIL.")


def _is_file_list(x: Any) -> bool:
    if isinstance(x, (str, Path)):
        return True
    if isinstance(x, (list, tuple)) and x:
        return all(isinstance(i, (str, Path)) or _is_pil(i) for i in x)
    return False


class Predictor:
    """A trained model ready for raw inputs: ``predict`` (class names), ``predict_proba``, ``logits``.

    ``model`` is an `InferenceModel` (or an ensemble of them) on the CPU in eval mode; it is what
    `lepton_nb.export` writes to TorchScript or ONNX.
    """

    def __init__(self, model: nn.Module, preprocessor: Preprocessor, *, name: str = "",
                 recipe: Recipe | None = None, data: DataBundle | None = None):
        self.model = model.eval()
        self.preprocessor = preprocessor
        self.name = name
        self.recipe = recipe
        self.data = data

    @property
    def classes(self) -> list[str]:
        return list(self.preprocessor.spec.classes)

    @property
    def spec(self) -> DataSpec:
        return self.preprocessor.spec

    def prepare(self, inputs: Any) -> torch.Tensor:
        """Raw inputs → the tensor the model (and an exported file) takes."""
        return self.preprocessor(inputs)

    @torch.inference_mode()
    def logits(self, inputs: Any, batch_size: int = 1024, prepared: bool = False) -> torch.Tensor:
        """Logits [N, classes] as float32 on the CPU, computed in eval mode (the model's mode is restored)."""
        x = inputs if prepared else self.prepare(inputs)
        device = device_of(self.model)
        was_training = self.model.training
        self.model.eval()
        try:
            outs = [self.model(x[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(x), batch_size)]
        finally:
            self.model.train(was_training)
        return torch.cat(outs) if outs else torch.empty((0, len(self.classes)))

    def predict_proba(self, inputs: Any, batch_size: int = 1024) -> np.ndarray:
        """Class probabilities [N, classes]."""
        return torch.softmax(self.logits(inputs, batch_size), 1).numpy()

    def predict_index(self, inputs: Any, batch_size: int = 1024) -> np.ndarray:
        return self.logits(inputs, batch_size).argmax(1).numpy()

    def predict(self, inputs: Any, batch_size: int = 1024) -> list[str]:
        """The predicted class name of each input."""
        classes = self.classes
        return [classes[i] for i in self.predict_index(inputs, batch_size)]

    def load_data(self) -> DataBundle:
        """The data this predictor's run was trained on (rebuilt from its recipe when not in memory)."""
        if self.data is None:
            if self.recipe is None:
                raise DataError("data", None, "this predictor has no recipe to rebuild its data from; allowed: "
                                "pass the DataBundle explicitly")
            self.data = build_data(self.recipe)
        return self.data

    def split_inputs(self, split: str = "test", data: DataBundle | None = None) -> tuple[torch.Tensor, torch.Tensor]:
        """(raw-scaled inputs, labels) of a split of the run's data, ready for ``logits(prepared=True)``."""
        data = data if data is not None else self.load_data()
        if split not in data.splits:
            raise DataError("split", split, f"allowed: {', '.join(data.splits)}")
        n = len(data.splits[split])
        if data.lazy:
            x = torch.cat([data.raw(split, np.arange(i, min(n, i + 512))) for i in range(0, n, 512)]) if n else \
                torch.empty((0, *data.input_shape))
        else:
            x = data.raw(split, slice(None))
        return x, data.labels(split)

    def sample_inputs(self, limit: int = 256) -> torch.Tensor:
        """Up to ``limit`` prepared inputs of the run's first split with samples (test, val, train): what
        export and compression check and time the model with."""
        data = self.load_data()
        for split in ("test", "val", "train"):
            if len(data.splits[split]):
                x, _ = self.split_inputs(split, data)
                return x[:limit].contiguous()
        raise UsageError("inputs", None, "the run's data has no samples; allowed: pass inputs explicitly")

    def evaluate(self, split: str = "test", data: DataBundle | None = None,
                 metrics: Sequence[str] | None = None) -> EvalResult:
        """sklearn metrics of this predictor on a split of the run's data."""
        data = data if data is not None else self.load_data()
        x, y = self.split_inputs(split, data)
        names = list(metrics or (self.recipe.evaluate.metrics if self.recipe is not None else ("accuracy",)))
        return evaluate_logits(self.logits(x, prepared=True), y, data.classes, names, split)

    def model_space(self, data: DataBundle | None = None) -> tuple[nn.Module, DataBundle]:
        """The classifier behind the normalization (it takes prepared, normalized inputs) and its data."""
        if not isinstance(self.model, InferenceModel):
            raise UsageError("model", type(self.model).__name__, "an ensemble has no single classifier to explain; "
                             "allowed: one of its member runs")
        return self.model.model, data if data is not None else self.load_data()

    def __repr__(self) -> str:
        return f"Predictor({self.name!r}, {self.spec.kind}, {len(self.classes)} classes)"


def device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    for b in model.buffers():
        return b.device
    return torch.device("cpu")
