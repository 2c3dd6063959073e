"""The recipe: schema (dataclasses with field metadata), presets, parsing and validation messages.

The bottom layer above ``errors``: everything else reads a `Recipe`; nothing here imports the
rest of the package, so validation, the command line and the studio's forms share one source.
"""

from ..errors import Problem, RecipeError
from .core import Recipe
from .fields import describe_fields, setting
from .methods import BASELINES, METHODS, Method, MethodParam, default_method, methods_for_kind
from .ops import AUGMENT_OPS, OpSpec, Param, default_op
from .presets import PRESETS
from .search import (
    KIND_WORDS,
    KINDS,
    TECHNICAL_TERMS,
    SearchSection,
    allowed_text,
    check_space_for_search,
    plain_allowed,
    pruning_note,
    searchable_fields,
)
from .sections import (
    SECTIONS,
    AdapterSection,
    AdversarialSection,
    AugmentSection,
    CleanSection,
    DataSection,
    EarlyStoppingSection,
    EvaluateSection,
    InterpretSection,
    ModelSection,
    NormalizeSection,
    PretrainSection,
    TrainSection,
)
from .vocab import ARCHS_FOR_KIND, METRICS, MONITORS, SOURCE_KIND

__all__ = [
    "ARCHS_FOR_KIND", "AUGMENT_OPS", "BASELINES", "METHODS", "METRICS", "MONITORS", "PRESETS", "SECTIONS",
    "SOURCE_KIND", "AdapterSection", "AdversarialSection", "AugmentSection", "CleanSection", "DataSection",
    "EarlyStoppingSection", "EvaluateSection", "InterpretSection", "Method", "MethodParam", "ModelSection",
    "NormalizeSection", "OpSpec", "Param", "PretrainSection", "Problem", "Recipe", "RecipeError", "TrainSection",
    "default_method", "default_op", "describe_fields", "methods_for_kind", "setting", "KINDS", "SearchSection",
    "allowed_text", "check_space_for_search", "pruning_note", "searchable_fields", "KIND_WORDS", "TECHNICAL_TERMS",
    "plain_allowed",
]
