"""`build_model`: the recipe's architecture from the registry (`builders.BUILDERS`, filled by the family modules
imported here), seeded without touching the global RNG."""

from __future__ import annotations

import torch

from ..data.bundle import DataSpec
from ..errors import ModelError
from ..recipe import ARCHS, ARCHS_FOR_KIND, ModelSection
from . import text, transformer, vision  # noqa: F401 - their builders register themselves in BUILDERS
from .adapters import apply_adapter
from .builders import BUILDERS
from .classifier import Classifier
from .init import init_weights
from .transformer import MaskedLM, build_masked_lm


def build_model(cfg: ModelSection, spec: DataSpec, seed: int | None = None) -> Classifier:
    """The recipe's architecture sized for the data, with initial weights drawn from a generator seeded by
    ``seed`` (0 when None): the same weights whatever else runs in the process. With ``model.adapter``
    the target layers carry LoRA adapters and only the parameters ``model.freeze`` leaves free learn."""
    if cfg.arch not in ARCHS_FOR_KIND[spec.kind]:
        raise ModelError(f"model.arch: {cfg.arch!r} — not for {spec.kind} data; allowed: "
                         f"{', '.join(ARCHS_FOR_KIND[spec.kind])}")
    with torch.random.fork_rng(devices=[]):  # the layers' own initialisation is redrawn below
        model = BUILDERS[cfg.arch](spec, cfg)  # the recipe validated the name
    generator = torch.Generator().manual_seed(0 if seed is None else seed)
    return apply_adapter(init_weights(model, generator), cfg, generator)


def build_masked_lm_model(cfg: ModelSection, spec: DataSpec, seed: int | None = None) -> MaskedLM:
    """The recipe's ``text_transformer`` encoder with a masked-token head (for `lnb.pretrain`), seeded."""
    if not ARCHS[cfg.arch].encoder:
        encoders = [name for name, arch in ARCHS.items() if arch.encoder]
        raise ModelError("model.arch", cfg.arch, "masked-token pretraining needs a transformer encoder; allowed: "
                                                 f"{', '.join(encoders)}")
    with torch.random.fork_rng(devices=[]):
        model = build_masked_lm(spec, cfg)
    return init_weights(model, torch.Generator().manual_seed(0 if seed is None else seed))
