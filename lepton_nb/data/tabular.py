"""Tables to feature tensors: imputation, one-hot encoding and outlier removal fitted on train rows."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ..errors import DataError
from ..recipe import CleanSection
from .cleaning import CleaningReport


@dataclass
class TableEncoder:
    """Fitted on train rows; turns any rows of the same table into float features.

    scikit-learn fits it (SimpleImputer for the fill values, OneHotEncoder for the categories);
    what they learned is kept as plain lists, so the encoder is stored as JSON in the run folder
    (``data.json``) and rebuilt for inference without unpickling anything.
    """

    numeric: list[str]
    categorical: list[str]
    numeric_fill: list[float] = field(default_factory=list)  # imputed value per numeric column
    categorical_fill: list[str] = field(default_factory=list)  # imputed value per categorical column
    categories: list[list[str]] = field(default_factory=list)  # one-hot categories per categorical column

    @classmethod
    def fit(cls, frame, missing: str) -> TableEncoder:
        from sklearn.impute import SimpleImputer
        from sklearn.preprocessing import OneHotEncoder

        numeric = [c for c in frame.columns if _is_numeric(frame[c])]
        categorical = [c for c in frame.columns if c not in numeric]
        strategy = missing if missing in ("mean", "median", "most_frequent") else "mean"
        numeric_fill: list[float] = []
        categorical_fill: list[str] = []
        categories: list[list[str]] = []
        if numeric:
            imp = SimpleImputer(strategy=strategy, keep_empty_features=True).fit(
                frame[numeric].to_numpy(dtype=np.float64))
            numeric_fill = [float(v) for v in imp.statistics_]
        if categorical:
            cats = _categories(frame, categorical)
            imp_cat = SimpleImputer(strategy="most_frequent", keep_empty_features=True).fit(cats)
            onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(imp_cat.transform(cats))
            categorical_fill = [str(v) for v in imp_cat.statistics_]
            categories = [[str(v) for v in c] for c in onehot.categories_]
        return cls([str(c) for c in numeric], [str(c) for c in categorical], numeric_fill, categorical_fill,
                   categories)

    @property
    def feature_names(self) -> list[str]:
        names = list(self.numeric)
        for col, cats in zip(self.categorical, self.categories):
            names += [f"{col}_{c}" for c in cats]
        return names

    @property
    def columns(self) -> list[str]:
        """The input columns a frame must have, in the order they were seen."""
        return [*self.numeric, *self.categorical]

    def transform(self, frame) -> torch.Tensor:
        """Impute with the train fill values, one-hot encode (unknown categories → all zeros)."""
        missing = [c for c in self.columns if c not in frame.columns]
        if missing:
            raise DataError("inputs", missing, f"columns missing from the table; allowed: a table with the "
                            f"columns {', '.join(self.columns)}")
        parts = []
        if self.numeric:
            try:
                num = frame[self.numeric].to_numpy(dtype=np.float64)
            except (TypeError, ValueError) as exc:
                raise DataError("inputs", self.numeric, f"numeric columns hold non-numbers ({exc})") from None
            fill = np.asarray(self.numeric_fill, dtype=np.float64)
            parts.append(np.where(np.isnan(num), fill, num))
        if self.categorical:
            cats = _categories(frame, self.categorical).to_numpy(dtype=object)
            for j, (fill_value, known) in enumerate(zip(self.categorical_fill, self.categories)):
                col = np.array([fill_value if _is_missing(v) else v for v in cats[:, j]], dtype=object)
                parts.append((col[:, None] == np.asarray(known, dtype=object)[None, :]).astype(np.float64))
        return torch.tensor(np.concatenate(parts, axis=1), dtype=torch.float32)

    def to_dict(self) -> dict:
        return {"numeric": self.numeric, "categorical": self.categorical, "numeric_fill": self.numeric_fill,
                "categorical_fill": self.categorical_fill, "categories": self.categories}

    @classmethod
    def from_dict(cls, d: dict) -> TableEncoder:
        return cls(list(d["numeric"]), list(d["categorical"]), [float(v) for v in d["numeric_fill"]],
                   [str(v) for v in d["categorical_fill"]], [[str(v) for v in c] for c in d["categories"]])


def _is_missing(value) -> bool:
    return value is None or (isinstance(value, float) and np.isnan(value))


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
        if int(keep.sum()) < 2:
            raise DataError("data.clean.outlier_z", cfg.outlier_z, f"the outlier filter leaves {int(keep.sum())} of "
                            f"{len(keep)} training row(s); allowed: a larger outlier_z, or data.clean.outliers none")
    return xs, ys, encoder
