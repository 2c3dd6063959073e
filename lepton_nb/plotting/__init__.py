"""Figure builders for finished or small results. Each takes an axis or figure and never calls show()."""

from . import attention, attributions
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

__all__ = [
    "attention",
    "attributions",
    "new_figure",
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
