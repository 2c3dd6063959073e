"""Initial weights for fine-tuning: another run's checkpoint or torchvision's ImageNet weights, and freezing.

``initialize(model, recipe.model, spec, source)`` is called by the run's plan after the model is built:

* ``model.init_from`` (a run folder or a checkpoint file, read once by the plan as an `InitSource`): the
  feature layers are loaded and must fit
  exactly; the head is loaded too when it fits and the classes are the same, otherwise it starts fresh
  (e.g. digits → MNIST keeps the convolutions and retrains the classifier).
* ``model.pretrained`` (``resnet18``): torchvision's ImageNet weights, from the torch hub cache or
  downloaded into it; the first convolution is adapted to the data's channels.
* ``model.freeze = "features"``: the features stop learning (no gradients, batch-norm statistics
  kept, see `Classifier.train`); only the head trains.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ..artifacts.init_source import InitSource
from ..data.bundle import DataSpec
from ..errors import ModelError
from ..models.adapters import base_key, is_adapter_key
from ..models.freezing import apply_freeze
from ..recipe import ARCHS, ModelSection

# torchvision ResNet module name → index in our ``features`` Sequential (see models.build_resnet18)
_RESNET_PARTS = {"conv1": 0, "bn1": 1, "layer1": 4, "layer2": 5, "layer3": 6, "layer4": 7}


@dataclass
class InitReport:
    """Where the initial weights came from and which parts were loaded, started fresh or frozen."""

    source: str
    loaded: list[str] = field(default_factory=list)
    fresh: list[str] = field(default_factory=list)
    frozen: list[str] = field(default_factory=list)
    note: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "loaded": self.loaded, "fresh": self.fresh, "frozen": self.frozen,
                "note": self.note}

    def table(self) -> str:
        lines = [f"initial weights: {self.source}", f"  loaded: {', '.join(self.loaded) or '-'}",
                 f"  fresh:  {', '.join(self.fresh) or '-'}", f"  frozen: {', '.join(self.frozen) or '-'}"]
        return "\n".join(lines + ([f"  {self.note}"] if self.note else []))


def initialize(model: nn.Module, cfg: ModelSection, spec: DataSpec,
               source: InitSource | None = None) -> InitReport | None:
    """Apply the recipe's initial weights and freezing to a freshly built model (in place). ``source`` is
    ``model.init_from`` as the plan read it (opened here when not given)."""
    report: InitReport | None = None
    if cfg.init_from:
        report = load_init_from(model, cfg, spec, source if source is not None else InitSource.open(cfg.init_from))
    elif cfg.pretrained:
        report = load_pretrained(model, cfg)
    frozen = apply_freeze(model, cfg.freeze)
    if frozen:
        report = report or InitReport("fresh weights")
        report.frozen = frozen
    if cfg.adapter.kind != "none":
        report = report or InitReport("fresh weights")
        trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
        total = sum(p.numel() for p in model.parameters())
        report.note = (report.note + "; " if report.note else "") + (
            f"LoRA r={cfg.adapter.r}: {trainable:,} of {total:,} parameters train ({100 * trainable / total:.1f} %)")
    return report


def _shape(t: torch.Tensor) -> list[int]:
    return list(t.shape)


def load_init_from(model: nn.Module, cfg: ModelSection, spec: DataSpec, source: InitSource) -> InitReport:
    """Load another run's weights: features strictly, the head when it fits and the classes agree."""
    where = f"model.init_from: {cfg.init_from!r}"
    if source.arch and source.arch != cfg.arch:
        raise ModelError(f"{where} — that run trained arch {source.arch!r}, this recipe has {cfg.arch!r}; "
                         f"allowed: a run of the same architecture (set model.arch to {source.arch!r})")
    weights = source.weights
    source_classes = source.classes
    # a model with adapters loads the source's plain weights into its wrapped layers; adapters start fresh
    own = {k: v for k, v in model.state_dict().items() if not is_adapter_key(k)}
    weights = {k: weights[base_key(k)] for k in own if base_key(k) in weights}
    feature_keys = [k for k in own if k.startswith("features.")]
    head_keys = [k for k in own if k.startswith("head.")]
    if not feature_keys:
        raise ModelError(f"{where} — {type(model).__name__} has no `features` part to load into; allowed: a "
                         "lepton_nb architecture")
    bad = [k for k in feature_keys if k not in weights or _shape(weights[k]) != _shape(own[k])]
    if bad:
        details = "; ".join(
            f"{k} is {_shape(weights[k]) if k in weights else 'missing'} there, {_shape(own[k])} here"
            for k in bad[:3])
        hint = (" (the vocabularies differ: fine-tune text on data with the same vocabulary)"
                if any("embedding" in k for k in bad) else "")
        raise ModelError(f"{where} — its feature layers do not fit this model: {details}{hint}; allowed: a run "
                         "of the same model.arch, width, depth, hidden and embed_dim on data with the same "
                         "channels/features")
    new_state = dict(model.state_dict())
    new_state.update({k: weights[k] for k in feature_keys})
    report = InitReport(str(source.checkpoint), loaded=["features"])
    head_fits = all(k in weights and _shape(weights[k]) == _shape(own[k]) for k in head_keys)
    same_classes = source_classes is None or list(source_classes) == list(spec.classes)
    if head_keys and head_fits and same_classes:
        new_state.update({k: weights[k] for k in head_keys})
        report.loaded.append("head")
    elif head_keys:
        report.fresh.append("head")
        report.note = ("the head starts fresh: " + ("its shape differs (other input size or number of classes)"
                                                    if not head_fits else
                                                    f"the classes differ ({len(source_classes or [])} there)"))
    model.load_state_dict(new_state)
    return report


def load_pretrained(model: nn.Module, cfg: ModelSection) -> InitReport:
    """torchvision ImageNet weights into a ``resnet18`` Classifier's features (the head stays fresh)."""
    url = ARCHS[cfg.arch].weights if cfg.arch in ARCHS else ""
    if not url:  # the recipe validates this; a hand-built config may not have
        raise ModelError(f"model.pretrained: true — no torchvision weights for arch {cfg.arch!r}; allowed: "
                         f"{', '.join(name for name, arch in ARCHS.items() if arch.weights)}")
    cache = Path(torch.hub.get_dir()) / "checkpoints" / url.rsplit("/", 1)[-1]
    try:
        weights = torch.hub.load_state_dict_from_url(url, progress=False, check_hash=True, weights_only=True)
    except Exception as exc:  # URLError, HTTPError, OSError, hash mismatch: all mean "not available here"
        raise ModelError(f"model.pretrained: true — the ImageNet weights of {cfg.arch} are not in the torch hub "
                         f"cache ({cache}) and downloading them failed ({type(exc).__name__}: {exc}); allowed: "
                         "false when offline, or copy that file there from a machine with internet") from None
    own = model.state_dict()
    mapped: dict[str, torch.Tensor] = {}
    for key, value in weights.items():
        part, _, rest = key.partition(".")
        if part not in _RESNET_PARTS:
            continue  # fc: ImageNet's 1000-class head is replaced by ours
        target = f"features.{_RESNET_PARTS[part]}.{rest}"
        if key == "conv1.weight" and value.shape[1] != own[target].shape[1]:
            channels = own[target].shape[1]  # grey or other channel counts: spread the RGB filters evenly
            value = value.mean(1, keepdim=True).repeat(1, channels, 1, 1) * (3 / channels)
        mapped[target] = value
    missing = [k for k in own if k.startswith("features.") and k not in mapped]
    if missing:
        raise ModelError(f"model.pretrained: true — the downloaded weights lack {', '.join(missing[:3])}; allowed: "
                         f"the official torchvision file ({url})")
    model.load_state_dict({**own, **mapped})
    return InitReport(f"torchvision {cfg.arch} ImageNet weights", loaded=["features"], fresh=["head"])
