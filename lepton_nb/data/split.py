"""Train/validation/test split: stratified when every class has enough samples."""

from __future__ import annotations

import numpy as np

from ..errors import DataError


def _split(idx: np.ndarray, labels: np.ndarray, fraction: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    from sklearn.model_selection import train_test_split  # imported on use: it costs ~1.5 s at startup

    if fraction <= 0:
        return idx, idx[:0]
    n_out = int(round(fraction * len(idx)))
    if n_out == 0:
        return idx, idx[:0]
    _, counts = np.unique(labels[idx], return_counts=True)
    stratify = labels[idx] if counts.min() >= 2 and n_out >= len(counts) else None
    keep, out = train_test_split(idx, test_size=n_out, random_state=seed, stratify=stratify)
    return np.sort(keep), np.sort(out)


def split_indices(labels: np.ndarray, val_fraction: float, test_fraction: float, seed: int,
                  has_fixed_test: bool = False) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Indices of train, validation and test samples (test empty when the test split is fixed)."""
    idx = np.arange(len(labels))
    if has_fixed_test:
        test = idx[:0]
        rest = idx
    else:
        rest, test = _split(idx, labels, test_fraction, seed)
    # val_fraction is a fraction of the whole, so rescale it to the remaining part
    val_share = val_fraction / max(1e-9, 1 - (0 if has_fixed_test else test_fraction))
    train, val = _split(rest, labels, min(val_share, 0.95), seed + 1)
    parts = [("data.val_fraction", val_fraction, val)] + ([] if has_fixed_test else
                                                          [("data.test_fraction", test_fraction, test)])
    for field, fraction, part in parts:  # a fraction asked for but rounded away is refused, not skipped
        if fraction > 0 and not len(part):
            raise DataError(field, fraction, f"of {len(labels)} samples gives an empty split; allowed: 0 (no such "
                            "split), a larger fraction, or more data")
    if len(train) < 2:
        raise DataError("data.val_fraction", val_fraction, f"leaves {len(train)} training sample(s) of "
                        f"{len(labels)}; allowed: smaller val/test fractions or more data")
    return train, val, test
