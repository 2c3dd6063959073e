"""Cleaning before the split: exact duplicates, missing values; each step reports what it removed."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError
from ..recipe import DATA_KINDS, CleanSection
from .sources import Pool
from .text import tokenize


@dataclass
class CleaningStep:
    name: str
    removed: int
    detail: str


@dataclass
class CleaningReport:
    """What cleaning did, step by step, with counts before and after."""

    before: int = 0
    after: int = 0
    steps: list[CleaningStep] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # what changed samples without removing them

    def add(self, name: str, removed: int, detail: str) -> None:
        self.steps.append(CleaningStep(name, int(removed), detail))

    @property
    def removed(self) -> int:
        return sum(s.removed for s in self.steps)

    def to_dict(self) -> dict:
        return {"before": self.before, "after": self.after,
                "steps": [{"name": s.name, "removed": s.removed, "detail": s.detail} for s in self.steps],
                "notes": list(self.notes)}

    def __str__(self) -> str:
        lines = [f"{self.before} samples → {self.after} after cleaning"]
        lines += [f"  {s.name}: {s.removed} removed ({s.detail})" for s in self.steps]
        lines += [f"  note: {n}" for n in self.notes]
        return "\n".join(lines)


def sample_keys(pool: Pool) -> list:
    """A hashable key per sample's input, equal exactly when the inputs are identical."""
    x = pool.inputs
    if isinstance(x, torch.Tensor):
        flat = x.reshape(len(x), -1).contiguous().numpy()
        return [hashlib.blake2b(row.tobytes(), digest_size=16).digest() for row in flat]
    if hasattr(x, "iloc"):
        return [tuple(row) for row in x.astype(str).itertuples(index=False, name=None)]
    if pool.info.get("lazy"):
        return [hashlib.blake2b(p.read_bytes(), digest_size=16).digest() for p in x]
    return [" ".join(str(s).split()) for s in x]


def _dedupe_mask(keys: list, labels: np.ndarray) -> tuple[np.ndarray, int]:
    """Keep the first of each (input, label) pair; count inputs seen with more than one label."""
    seen: set = set()
    labels_of: dict = {}
    keep = np.ones(len(keys), dtype=bool)
    for i, (k, y) in enumerate(zip(keys, labels.tolist())):
        labels_of.setdefault(k, set()).add(y)
        if (k, y) in seen:
            keep[i] = False
        else:
            seen.add((k, y))
    conflicting = sum(1 for v in labels_of.values() if len(v) > 1)
    return keep, conflicting


def clean_pool(pool: Pool, cfg: CleanSection) -> tuple[Pool, CleaningReport]:
    """Remove exact duplicates and (for tables with ``missing='drop'``) rows with missing values.

    With a fixed official test split, train samples identical to a test sample are removed too:
    they would leak test answers into training.
    """
    report = CleaningReport(before=len(pool) + (len(pool.fixed_test) if pool.fixed_test else 0))
    if pool.info.get("rows_without_target"):
        report.add("missing target", pool.info["rows_without_target"], "rows without a label")
        report.before += pool.info["rows_without_target"]
    fixed_test = pool.fixed_test
    if DATA_KINDS[pool.kind].columns and cfg.missing == "drop":
        keep = ~pool.inputs.isna().any(axis=1).to_numpy()
        if (~keep).any():
            report.add("missing values", (~keep).sum(), "rows with an empty cell dropped")
            if keep.sum() < 2:
                raise DataError("data.clean.missing", cfg.missing, f"drops {int((~keep).sum())} of {len(keep)} rows "
                                f"(those with an empty cell), leaving {int(keep.sum())}; allowed: mean, median or "
                                "most_frequent to fill empty cells from the train rows")
            pool = pool.subset(np.flatnonzero(keep))
    if DATA_KINDS[pool.kind].tokens:
        keep = np.array([bool(tokenize(str(t))) for t in pool.inputs], dtype=bool)
        if (~keep).any():
            report.add("empty sentences", (~keep).sum(), "no word left after tokenizing")
            pool = pool.subset(np.flatnonzero(keep))
    if cfg.dedupe:
        keys = sample_keys(pool)
        keep, conflicting = _dedupe_mask(keys, pool.labels)
        detail = "identical input and label"
        if conflicting:
            detail += f"; {conflicting} input(s) appear with different labels and were kept"
        report.add("duplicates", (~keep).sum(), detail)
        if fixed_test is not None:
            test_keep, _ = _dedupe_mask(sample_keys(fixed_test), fixed_test.labels)
            if (~test_keep).any():
                report.add("test duplicates", (~test_keep).sum(), "identical samples within the test split")
                fixed_test = fixed_test.subset(np.flatnonzero(test_keep))
            test_keys = set(sample_keys(fixed_test))
            leak = np.array([k in test_keys for k in keys], dtype=bool) & keep
            if leak.any():
                report.add("train/test overlap", leak.sum(), "train samples identical to a test sample")
                keep &= ~leak
        if (~keep).any():
            pool = pool.subset(np.flatnonzero(keep))
    pool.fixed_test = fixed_test
    report.after = len(pool) + (len(fixed_test) if fixed_test is not None else 0)
    return pool, report
