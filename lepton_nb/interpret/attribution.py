"""`explain`: captum.attr methods behind one call, returning attributions with the input's shape.

Attributions are computed on a frozen copy of the model in eval mode (ReLUs made non-inplace,
as DeepLift requires), under a forked, seeded RNG: explaining never changes the model, its
training mode or the global random state. Integrated Gradients is computed here in one batched
forward and backward pass, with captum's Gauss-Legendre steps: the same numbers as
``captum.attr.IntegratedGradients`` in about a third of the time (captum splits the outputs and
checks completeness with two more forward passes).
"""

from __future__ import annotations

import copy
import importlib
import warnings
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from ..data.bundle import DataBundle
from ..recipe import BASELINES, DATA_KINDS, METHODS, methods_for_kind
from ..seeding import seeded_global_rng
from .attributors import ATTRIBUTORS, LAYERS, Ask, InterpretError, embedding_layer, last_conv

__all__ = ["Explainable", "Explanation", "InterpretError", "attribution_copy", "check_method", "embedding_layer",
           "explain", "fitting_methods", "infer_kind", "last_conv", "make_baseline", "needs_captum"]


@runtime_checkable
class Explainable(Protocol):
    """A trained model with its data: a `Run` or a `Predictor` of one run.

    ``model_space`` returns the classifier that takes model-space (prepared, normalized) inputs —
    never a model that normalizes by itself — so explanations of ``data.inputs(...)`` are right.
    """

    def model_space(self, data: DataBundle | None = None) -> tuple[nn.Module, DataBundle]: ...


@dataclass
class Explanation:
    """Attributions (same shape as the inputs) and what they explain."""

    method: str
    attributions: torch.Tensor
    target: torch.Tensor  # the class explained, per sample
    predictions: torch.Tensor
    confidence: torch.Tensor  # softmax probability of the predicted class
    delta: torch.Tensor | None = None  # completeness error per sample, where the method defines one
    baseline: str = "zeros"
    params: dict[str, Any] | None = None

    def __len__(self) -> int:
        return len(self.attributions)


def infer_kind(inputs: torch.Tensor) -> str:
    if not torch.is_floating_point(inputs):
        return "text"
    return "image" if inputs.dim() == 4 else "tabular"


def fitting_methods(model: nn.Module, kind: str) -> list[str]:
    """The methods that work for this model and data kind."""
    return [name for name in methods_for_kind(kind)
            if not METHODS[name].needs or LAYERS[METHODS[name].needs](model) is not None]


MISSING_LAYER = {"conv": "Conv2d", "embedding": "nn.Embedding"}  # `Method.needs` as the layer it names


def check_method(model: nn.Module, kind: str, method: str) -> None:
    """Raise InterpretError naming the methods that fit when ``method`` does not."""
    fits = fitting_methods(model, kind)
    if method in fits:
        return
    if method not in METHODS:
        reason = "unknown method"
    elif kind not in METHODS[method].kinds:
        reason = f"not for {kind} data"
    else:
        reason = f"the model has no {MISSING_LAYER.get(METHODS[method].needs or '', 'such')} layer"
    raise InterpretError(f"interpret.method: {method!r} — {reason}; methods that fit this model: "
                         f"{', '.join(fits) or 'none'}")


def attribution_copy(model: nn.Module) -> nn.Module:
    """A CPU copy in eval mode, without in-place activations, gradients off for the weights."""
    clone = copy.deepcopy(model).to("cpu").eval()
    for m in clone.modules():
        if hasattr(m, "inplace"):
            m.inplace = False
    for p in clone.parameters():
        p.requires_grad_(False)
    return clone


def _blur(x: torch.Tensor) -> torch.Tensor:
    from torchvision.transforms.v2 import functional as F

    side = x.shape[-1]
    kernel = max(3, (side // 4) | 1)
    return F.gaussian_blur(x, [kernel, kernel], [kernel / 3.0, kernel / 3.0])


def make_baseline(inputs: torch.Tensor, baseline: str | torch.Tensor, kind: str,
                  data: DataBundle | None = None) -> torch.Tensor:
    """A reference input: zeros (padding for text), a blurred copy (images), or the train-split mean."""
    if isinstance(baseline, torch.Tensor):
        b = baseline.detach().to("cpu", inputs.dtype)
        return b if b.shape == inputs.shape else b.expand_as(inputs).clone()
    if baseline not in BASELINES:
        raise InterpretError(f"interpret.baseline: {baseline!r} — allowed: {', '.join(BASELINES)} or a tensor")
    if DATA_KINDS[kind].tokens or baseline == "zeros":
        return torch.zeros_like(inputs)
    if baseline == "blur":
        if not DATA_KINDS[kind].pixels:
            raise InterpretError(f"interpret.baseline: 'blur' — for images only; for {kind} data allowed: zeros, mean")
        return _blur(inputs)
    if data is None:
        raise InterpretError("interpret.baseline: 'mean' — needs the data (pass data=... or a Run); "
                             "allowed without data: zeros" + (", blur" if DATA_KINDS[kind].pixels else ""))
    return data.inputs("train").mean(0, keepdim=True).expand_as(inputs).clone()


def _targets(model: nn.Module, inputs: torch.Tensor, target: Any, labels: Any) -> tuple[torch.Tensor, ...]:
    with torch.no_grad():
        logits = model(inputs)
        probs = torch.softmax(logits.float(), 1)
    predictions = probs.argmax(1)
    confidence = probs.gather(1, predictions[:, None])[:, 0]
    if target is None or (isinstance(target, str) and target == "pred"):
        chosen = predictions
    elif isinstance(target, str) and target == "true":
        if labels is None:
            raise InterpretError("interpret.target: 'true' — needs the labels (pass labels=...)")
        chosen = torch.as_tensor(labels, dtype=torch.long).reshape(-1)
    elif isinstance(target, int):
        if not 0 <= target < probs.shape[1]:
            raise InterpretError(f"interpret.target: {target} — allowed: a class index from 0 to {probs.shape[1] - 1}, "
                                 "'pred' or 'true'")
        chosen = torch.full_like(predictions, target)
    elif isinstance(target, torch.Tensor):
        chosen = target.to(torch.long).reshape(-1)
    else:
        raise InterpretError(f"interpret.target: {target!r} — allowed: 'pred', 'true', a class index or a tensor")
    return chosen, predictions, confidence, logits


def needs_captum(method: str) -> bool:
    """Every method but Integrated Gradients (our batched pass, checked against captum's) runs on captum;
    a process that only explains with it never loads captum (~0.5 s, 30 MB)."""
    entry = ATTRIBUTORS.get(method)
    return entry is None or entry.captum


def explain(model: Any, inputs: torch.Tensor, method: str = "integrated_gradients", target: Any = "pred",
            labels: Any = None, baseline: str | torch.Tensor = "zeros", data: DataBundle | None = None,
            layer: nn.Module | str | None = None, seed: int = 0, copy_model: bool = True,
            **params: Any) -> Explanation:
    """Attributions of ``inputs`` (model-input space, e.g. normalized images) for each sample's target.

    ``model`` may be a finished `Run` (its model and data are used). ``target`` is ``"pred"`` (the
    predicted class), ``"true"`` (needs ``labels``), a class index or a tensor. ``baseline`` is
    ``"zeros"``, ``"blur"`` (images), ``"mean"`` (the train split's mean; needs ``data``) or a tensor.
    ``params`` are the method's parameters (see ``interpret.METHODS``), e.g. ``n_steps=50``.
    ``copy_model=False``: ``model`` is already an `attribution_copy` (callers explaining often keep one).
    """
    attr: Any = importlib.import_module("captum.attr") if needs_captum(method) else None
    if not isinstance(model, nn.Module):
        if not isinstance(model, Explainable):
            raise InterpretError("model", type(model).__name__, "allowed: a Run, a Predictor of one run, or an "
                                 "nn.Module taking model-space inputs")
        model, data = model.model_space(data)
    kind = data.kind if data is not None else infer_kind(inputs)
    if isinstance(layer, nn.Module):  # a layer of the caller's model: find it again in the copy by name
        layer = next((name for name, m in model.named_modules() if m is layer), None)
        if layer is None:
            raise InterpretError("interpret.layer: the given module is not part of the model")
    net = attribution_copy(model) if copy_model else model
    check_method(net, kind, method)
    spec = METHODS[method]
    unknown = set(params) - set(spec.params)
    if unknown:
        raise InterpretError(f"interpret.params: {sorted(unknown)} — {method} takes: "
                             f"{', '.join(spec.params) or 'no parameters'}")
    p = {k: (int(v.default) if v.integer else v.default) for k, v in spec.params.items()}
    p.update(params)
    x = inputs.detach().to("cpu").clone()
    chosen, predictions, confidence, logits = _targets(net, x, target, labels)
    if torch.is_floating_point(x):
        x.requires_grad_()
    base = make_baseline(x, baseline, kind, data) if spec.baseline or DATA_KINDS[kind].tokens else None
    # SmoothGrad and GradientSHAP draw from the global RNGs (captum takes no generator)
    with seeded_global_rng(seed), warnings.catch_warnings():
        # captum announces the hooks it sets on activations: expected here, not a problem to report
        warnings.filterwarnings("ignore", category=UserWarning, module=r"captum\..*")
        layer_name = layer if isinstance(layer, str) else None
        a, delta = ATTRIBUTORS[method].run(Ask(net, x, base, chosen, logits, p, layer_name, attr))
    return Explanation(method, a.detach().float(), chosen, predictions, confidence,
                       None if delta is None else delta.detach().float(),
                       baseline if isinstance(baseline, str) else "tensor", p)
