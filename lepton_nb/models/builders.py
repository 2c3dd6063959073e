"""Architecture name → builder: the model registry's table. Each family module registers its builders with
`builds`; `lepton_nb.recipe.archs.ARCHS` lists the same names with what each architecture can do (one test checks
that the two agree)."""

from __future__ import annotations

from collections.abc import Callable

from torch import nn

from ..data.bundle import DataSpec
from ..recipe import ModelSection

Builder = Callable[[DataSpec, ModelSection], nn.Module]
BUILDERS: dict[str, Builder] = {}


def builds(*names: str) -> Callable[[Builder], Builder]:
    """Register the decorated function as the builder of the architectures ``names``."""
    def register(builder: Builder) -> Builder:
        for name in names:
            BUILDERS[name] = builder
        return builder
    return register
