"""Figure builders for finished or small results.

Static figures (matplotlib/seaborn, `figures`, `attributions`, `attention`) take an axis or figure and never
call show(). Interactive figures (`interactive`) are plotly.js JSON for the HTML pages that `page` writes.
Names load on first use (PEP 562), so a process that writes an HTML page without static images never imports
matplotlib.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from . import attention, attributions, interactive, page
    from .figures import (
        new_figure,
        plot_confusion,
        plot_curves,
        plot_cv,
        plot_histograms,
        plot_image_grid,
        plot_lr,
        plot_lr_find,
        plot_per_class,
        plot_top_losses,
        to_png,
    )

_SUBMODULES = ("attention", "attributions", "interactive", "page")
_FIGURES = ("new_figure", "plot_confusion", "plot_curves", "plot_cv", "plot_histograms", "plot_image_grid", "plot_lr",
            "plot_lr_find", "plot_per_class", "plot_top_losses", "to_png")

__all__ = [
    "attention",
    "attributions",
    "interactive",
    "new_figure",
    "page",
    "plot_confusion",
    "plot_curves",
    "plot_cv",
    "plot_histograms",
    "plot_image_grid",
    "plot_lr",
    "plot_lr_find",
    "plot_per_class",
    "plot_top_losses",
    "to_png",
]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _FIGURES:
        value = getattr(importlib.import_module(f"{__name__}.figures"), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
