"""The recipe: schema (dataclasses with field metadata), presets, parsing and validation messages.

The bottom layer above ``errors``: everything else reads a `Recipe`; nothing here imports the
rest of the package, so validation, the command line and the studio's forms share one source.
"""

from ..errors import Problem, RecipeError
from .archs import ARCHS, Arch, archs_for
from .core import Recipe
from .fields import Names, describe_fields, setting
from .methods import BASELINES, METHODS, Method, MethodParam, baselines_for, default_method, methods_for_kind
from .ops import AUGMENT_OPS, OpSpec, Param, default_op
from .optimizers import OPTIMIZERS, SCHEDULERS
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
from .vocab import ARCHS_FOR_KIND, DATA_KINDS, METRICS, MONITORS, SOURCE_KIND, SOURCES, DataKind

__all__ = [
    "ARCHS", "ARCHS_FOR_KIND", "AUGMENT_OPS", "AdapterSection", "AdversarialSection", "Arch", "AugmentSection",
    "BASELINES", "CleanSection", "DATA_KINDS", "DataKind", "DataSection", "EarlyStoppingSection", "EvaluateSection",
    "InterpretSection", "KINDS", "KIND_WORDS", "METHODS", "METRICS", "MONITORS", "Method", "MethodParam",
    "ModelSection", "Names", "NormalizeSection", "OPTIMIZERS", "OpSpec", "PRESETS", "Param", "PretrainSection",
    "Problem", "Recipe", "RecipeError", "SCHEDULERS", "SECTIONS", "SOURCES", "SOURCE_KIND", "SearchSection",
    "TECHNICAL_TERMS", "TrainSection", "allowed_text", "archs_for", "baselines_for", "check_space_for_search",
    "default_method", "default_op", "describe_fields", "methods_for_kind", "plain_allowed", "pruning_note",
    "searchable_fields", "setting",
]
