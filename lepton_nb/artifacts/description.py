"""A run folder's ``data.json`` read back and checked: every piece inference rebuilds from it must fit the others.

A hand-edited or damaged file is refused with a `CheckpointError` naming the file and the field, never
turned into a model that answers with the wrong class names or normalization.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

from ..data.bundle import DataSpec
from ..data.normalize import NormStats
from ..data.subword import SubwordVocab, tokens_from_summary
from ..data.tabular import TableEncoder
from ..data.text import Vocab
from ..errors import CheckpointError
from ..recipe import DATA_KINDS

ALLOWED = "allowed: the data.json lepton_nb wrote for this run (restore it or train the run again)"


@dataclass
class DataDescription:
    """What a run folder records about its data: spec, normalization, vocabulary or table encoder."""

    spec: DataSpec
    norm: NormStats
    vocab: Vocab | SubwordVocab | None
    encoder: TableEncoder | None


def parse_description(info: Any, path: Path) -> DataDescription:
    """``data.json``'s contents (already parsed JSON) as a checked `DataDescription`."""
    where = str(path)
    if not isinstance(info, dict):
        raise CheckpointError("data.json", where, f"holds a {type(info).__name__}, not an object; {ALLOWED}")
    spec = _build(DataSpec, info.get("spec"), "spec", where)
    norm = _build(NormStats, info.get("normalization"), "normalization", where)
    try:
        vocab = tokens_from_summary(info)
        encoder = TableEncoder.from_dict(info["encoder"]) if info.get("encoder") else None
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise CheckpointError("data.json", where, f"vocab/encoder cannot be read ({type(exc).__name__}: "
                              f"{str(exc)[:100]}); {ALLOWED}") from None
    _check(DataDescription(spec, norm, vocab, encoder), where)
    return DataDescription(spec, norm, vocab, encoder)


def _build(cls: type, value: Any, key: str, where: str) -> Any:
    names = [f.name for f in fields(cls)]
    if not isinstance(value, dict):
        raise CheckpointError(f"data.json: {key}", where, f"is missing or not an object; {ALLOWED}")
    unknown = [k for k in value if k not in names]
    if unknown:
        raise CheckpointError(f"data.json: {key}.{unknown[0]}", where, f"unknown field; allowed: {', '.join(names)}")
    try:
        return cls(**value)
    except TypeError as exc:  # a required field is missing
        raise CheckpointError(f"data.json: {key}", where, f"{exc}; {ALLOWED}") from None


def _numbers(values: Any) -> bool:
    return isinstance(values, list) and all(isinstance(v, (int, float)) and not isinstance(v, bool)
                                            and math.isfinite(v) for v in values)


def _check(d: DataDescription, where: str) -> None:
    s, n = d.spec, d.norm

    def bad(key: str, value: Any, allowed: str) -> CheckpointError:
        return CheckpointError(f"data.json: {key}", f"{where}: {value!r}"[:300], f"allowed: {allowed}")

    if s.kind not in ("image", "tabular", "text"):
        raise bad("spec.kind", s.kind, "image, tabular or text")
    if not isinstance(s.input_shape, list) or not s.input_shape or not all(
            isinstance(v, int) and not isinstance(v, bool) and 0 < v <= 1_000_000 for v in s.input_shape):
        raise bad("spec.input_shape", s.input_shape, "a list of positive whole numbers")
    if not isinstance(s.classes, list) or len(s.classes) < 2 or not all(isinstance(c, str) for c in s.classes):
        raise bad("spec.classes", s.classes, "a list of at least 2 class names")
    if s.num_classes != len(s.classes):
        raise bad("spec.num_classes", s.num_classes, f"the number of class names ({len(s.classes)}); the model "
                  "has one output per class, so the names must match the outputs")
    if DATA_KINDS[s.kind].tokens and (d.vocab is None or s.vocab_size != len(d.vocab)):
        raise bad("spec.vocab_size", s.vocab_size, "the length of vocab (text runs record their vocabulary)")
    if DATA_KINDS[s.kind].columns and d.encoder is not None and len(d.encoder.feature_names) != s.input_shape[0]:
        raise bad("encoder", len(d.encoder.feature_names), f"{s.input_shape[0]} features (spec.input_shape)")
    if n.method not in ("none", "standardize", "minmax", "explicit"):
        raise bad("normalization.method", n.method, "none, standardize, minmax or explicit")
    if not _numbers(n.shift) or not _numbers(n.scale) or len(n.shift) != len(n.scale):
        raise bad("normalization.shift", n.shift, "two lists of finite numbers of the same length (shift, scale)")
    if n.shift and not DATA_KINDS[s.kind].tokens and len(n.shift) not in (1, s.input_shape[0]):
        raise bad("normalization.shift", n.shift, f"1 or {s.input_shape[0]} values (one per channel/feature)")
    if any(v == 0 for v in n.scale):
        raise bad("normalization.scale", n.scale, "non-zero numbers (inputs are divided by them)")
