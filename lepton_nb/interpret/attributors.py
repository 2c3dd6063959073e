"""The attribution methods' implementations, keyed by the names `lepton_nb.recipe.METHODS` lists (one test checks
they agree): each an `Attributor` that turns an `Ask` (the frozen model copy, the inputs, baseline, targets and
the method's parameters) into attributions and, where the method defines one, its convergence delta.

Adding a method touches two files: its entry in `lepton_nb.recipe.methods.METHODS` (label, data kinds,
parameters) and its `Attributor` here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from ..errors import FieldError


class InterpretError(FieldError):
    """An attribution request that does not fit the model, the data or the method."""


def last_conv(model: nn.Module) -> nn.Module | None:
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    return convs[-1] if convs else None


def embedding_layer(model: nn.Module) -> nn.Module | None:
    return next((m for m in model.modules() if isinstance(m, nn.Embedding)), None)


# `Method.needs` → the layer of a model that meets it (None: the model has none)
LAYERS: dict[str, Callable[[nn.Module], nn.Module | None]] = {"conv": last_conv, "embedding": embedding_layer}


@dataclass
class Ask:
    """What a method is asked: explain ``x`` for ``target`` on ``net`` (``logits``: ``net(x)``)."""

    net: nn.Module
    x: torch.Tensor
    base: torch.Tensor | None
    target: torch.Tensor
    logits: torch.Tensor
    params: dict[str, Any]
    layer: str | None
    attr: Any  # captum.attr (None for the methods that do not need it)

    def steps(self, name: str) -> int:
        return int(self.params[name])


Result = tuple[torch.Tensor, torch.Tensor | None]  # attributions, convergence delta per sample (or None)


@dataclass(frozen=True)
class Attributor:
    run: Callable[[Ask], Result]
    captum: bool = True  # loads captum (~0.5 s, 30 MB): a process that never asks for such a method never does


def integrated_gradients(ask: Ask) -> Result:
    """captum's Integrated Gradients (Gauss-Legendre) in one batched pass."""
    net, x, base, target, n_steps = ask.net, ask.x.detach(), ask.base, ask.target, ask.steps("n_steps")
    assert base is not None
    nodes, weights = np.polynomial.legendre.leggauss(n_steps)
    alphas = torch.as_tensor(0.5 * (1 + nodes), dtype=x.dtype)
    steps = torch.as_tensor(0.5 * weights, dtype=x.dtype).view(-1, *([1] * x.dim()))
    base = base.detach()
    diff = x - base
    scaled = (base.unsqueeze(0) + alphas.view_as(steps) * diff.unsqueeze(0)).flatten(0, 1).requires_grad_()
    with torch.enable_grad():
        out = net(scaled)
        (grads,) = torch.autograd.grad(out.gather(1, target.repeat(n_steps)[:, None]).sum(), scaled)
    attributions = (grads.view(n_steps, *x.shape) * steps).sum(0) * diff
    with torch.no_grad():  # completeness: the attributions' sum against the output gap, per sample
        gap = ask.logits.gather(1, target[:, None])[:, 0] - net(base).gather(1, target[:, None])[:, 0]
    return attributions, attributions.flatten(1).sum(1) - gap


def resolve_layer(net: nn.Module, layer: str) -> nn.Module:
    modules = dict(net.named_modules())
    if layer not in modules:
        raise InterpretError(f"interpret.layer: {layer!r} — no such layer; allowed: "
                             f"{', '.join(n for n in modules if n)[:300]}")
    return modules[layer]


def occlusion(ask: Ask) -> Result:
    x, window, stride = ask.x, ask.steps("window"), ask.steps("stride")
    if stride > window:
        raise InterpretError(f"occlusion stride: {stride} — allowed: at most the window ({window}), so every "
                             "input is covered")
    if x.dim() == 4:
        c, h, w = x.shape[1:]
        window, stride = min(window, h, w), min(stride, h, w)
        shape, strides = (c, window, window), (c, stride, stride)
    else:
        shape, strides = (min(window, x.shape[1]),), (min(stride, x.shape[1]),)
    return ask.attr.Occlusion(ask.net).attribute(x, sliding_window_shapes=shape, strides=strides,
                                                 baselines=ask.base, target=ask.target), None


def grad_cam(ask: Ask) -> Result:
    attr, x = ask.attr, ask.x
    chosen = resolve_layer(ask.net, ask.layer) if ask.layer is not None else last_conv(ask.net)
    cam = attr.LayerGradCam(ask.net, chosen).attribute(x, target=ask.target, relu_attributions=True)
    up = attr.LayerAttribution.interpolate(cam, tuple(x.shape[-2:]), interpolate_mode="bilinear")
    return up.expand_as(x).contiguous(), None


def gradient_shap(ask: Ask) -> Result:
    a, delta = ask.attr.GradientShap(ask.net).attribute(
        ask.x, ask.base, n_samples=ask.steps("n_samples"), stdevs=float(ask.params["stdev"]), target=ask.target,
        return_convergence_delta=True)
    return a, delta.view(len(ask.x), -1).mean(1)


def layer_integrated_gradients(ask: Ask) -> Result:
    """Integrated Gradients on the embedding (the given layer, or the model's nn.Embedding), summed per token."""
    emb = resolve_layer(ask.net, ask.layer) if ask.layer is not None else embedding_layer(ask.net)
    a, delta = ask.attr.LayerIntegratedGradients(ask.net, emb).attribute(
        ask.x, torch.zeros_like(ask.x), target=ask.target, n_steps=ask.steps("n_steps"),
        return_convergence_delta=True)
    return a.sum(-1), delta


ATTRIBUTORS: dict[str, Attributor] = {
    "integrated_gradients": Attributor(integrated_gradients, captum=False),
    "saliency": Attributor(lambda a: (a.attr.Saliency(a.net).attribute(a.x, target=a.target, abs=True), None)),
    "smoothgrad": Attributor(lambda a: (a.attr.NoiseTunnel(a.attr.Saliency(a.net)).attribute(
        a.x, nt_type="smoothgrad", nt_samples=a.steps("nt_samples"), stdevs=float(a.params["stdev"]),
        target=a.target), None)),
    "gradient_shap": Attributor(gradient_shap),
    "deeplift": Attributor(lambda a: a.attr.DeepLift(a.net).attribute(a.x, a.base, target=a.target,
                                                                      return_convergence_delta=True)),
    "occlusion": Attributor(occlusion),
    "grad_cam": Attributor(grad_cam),
    "feature_ablation": Attributor(lambda a: (a.attr.FeatureAblation(a.net).attribute(a.x, a.base,
                                                                                      target=a.target), None)),
    "layer_integrated_gradients": Attributor(layer_integrated_gradients),
}
