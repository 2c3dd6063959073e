"""Named architectures sized from the data, one file per family; seeded without the global RNG."""

from .adapters import adaptable_names, add_lora, has_adapters, merge_lora
from .classifier import Classifier, LayerRow, count_parameters, summarize
from .init import init_weights
from .layers import Dropout, seed_dropout
from .registry import BUILDERS, build_masked_lm_model, build_model

__all__ = ["BUILDERS", "Classifier", "Dropout", "LayerRow", "add_lora", "adaptable_names", "build_masked_lm_model",
           "build_model", "count_parameters", "has_adapters", "init_weights", "merge_lora", "seed_dropout",
           "summarize"]
