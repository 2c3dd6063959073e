"""Named architectures sized from the data, one file per family; seeded without the global RNG."""

from .classifier import Classifier, LayerRow, count_parameters, summarize
from .init import init_weights
from .layers import Dropout, seed_dropout
from .registry import BUILDERS, build_model

__all__ = ["BUILDERS", "Classifier", "Dropout", "LayerRow", "build_model", "count_parameters", "init_weights",
           "seed_dropout", "summarize"]
