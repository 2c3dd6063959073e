"""Tables to feature tensors: imputation, one-hot encoding and outlier removal fitted on train rows."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..recipe import CleanSection
from .cleaning import CleaningReport


@dataclass
class TableEncoder:
    """Fitted on train rows; turns any rows of the same table into float features."""

    numeric: list[str]
    categorical: list[str]
    imputer_num: object | None
    imputer_cat: object | None
    onehot: object | None

    @classmethod
    def fit(cls, frame, missing: str) -> TableEncoder:
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder

        numeric = [c for c in frame.columns if _is_numeric(frame[c])]
        categorical = [c for c in frame.columns if c not in numeric]
        strategy = missing if missing in ("mean", "median", "most_frequent") else "mean"
        imp_num = SimpleImputer(strategy=strategy, keep_empty_features=True).fit(
            frame[numeric].to_numpy(dtype=np.float64)) if numeric else None
        imp_cat = onehot = None
        if categorical:
            cats = _categories(frame, categorical)
            imp_cat = SimpleImputer(strategy="most_frequent", keep_empty_features=True).fit(cats)
            onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(imp_cat.transform(cats))
        return cls(numeric, categorical, imp_num, imp_cat, onehot)

    @property
    def feature_names(self) -> list[str]:
        names = [str(c) for c in self.numeric]
        if self.onehot is not None:
            names += [str(n) for n in self.onehot.get_feature_names_out([str(c) for c in self.categorical])]
        return names

    def transform(self, frame) -> torch.Tensor:
        parts = []
        if self.numeric:
            parts.append(self.imputer_num.transform(frame[self.numeric].to_numpy(dtype=np.float64)))
        if self.categorical:
            cats = _categories(frame, self.categorical)
            parts.append(self.onehot.transform(self.imputer_cat.transform(cats)))
        return torch.tensor(np.concatenate(parts, axis=1), dtype=torch.float32)


def _categories(frame, columns: list[str]):
    """Categorical columns as strings, missing cells kept as NaN for the imputer."""
    cats = frame[columns]
    return cats.astype(str).where(cats.notna(), np.nan)


def _is_numeric(col) -> bool:
    import pandas as pd

    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def outlier_mask(x: torch.Tensor, n_numeric: int, z: float) -> np.ndarray:
    """True for rows whose numeric features all lie within ``z`` standard deviations."""
    if n_numeric == 0 or len(x) < 3:
        return np.ones(len(x), dtype=bool)
    num = x[:, :n_numeric].double()
    mean, std = num.mean(0), num.std(0).clamp_min(1e-12)
    return ((num - mean).abs() / std <= z).all(1).numpy()


def encode_table(frames: dict[str, object], labels: dict[str, np.ndarray], cfg: CleanSection,
                 report: CleaningReport) -> tuple[dict[str, torch.Tensor], dict[str, np.ndarray], TableEncoder]:
    """Fit the encoder on ``frames['train']`` and encode every split; drop train outliers if asked."""
    train = frames["train"]
    encoder = TableEncoder.fit(train, cfg.missing)
    n_missing = int(sum(f.isna().to_numpy().sum() for f in frames.values()))
    if n_missing and cfg.missing != "drop":
        report.add("missing values", 0, f"{n_missing} empty cell(s) imputed with the train {cfg.missing}")
    xs = {k: encoder.transform(f) for k, f in frames.items()}
    ys = dict(labels)
    if cfg.outliers == "zscore":
        keep = outlier_mask(xs["train"], len(encoder.numeric), cfg.outlier_z)
        report.add("outliers", int((~keep).sum()), f"train rows beyond {cfg.outlier_z:g} standard deviations")
        report.after -= int((~keep).sum())
        xs["train"], ys["train"] = xs["train"][torch.from_numpy(keep)], ys["train"][keep]
    return xs, ys, encoder
