"""The table encoder keeps what scikit-learn fitted as JSON and encodes exactly as scikit-learn would."""

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.impute import SimpleImputer
from sklearn.preprocessing import OneHotEncoder

from lepton_nb.data.tabular import TableEncoder
from lepton_nb.errors import DataError


def frame(seed: int, n: int = 40) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({"x": rng.normal(size=n), "colour": rng.choice(["red", "green", "blue"], n),
                       "k": rng.integers(0, 5, n).astype(float), "size": rng.choice(["s", "m"], n)})
    df.loc[::7, "x"] = np.nan
    df.loc[::5, "colour"] = None
    return df


def sklearn_reference(train: pd.DataFrame, rows: pd.DataFrame, strategy: str) -> np.ndarray:
    """The encoding a plain scikit-learn pipeline gives (imputers + one-hot with unknown categories ignored)."""
    num, cat = ["x", "k"], ["colour", "size"]
    imp = SimpleImputer(strategy=strategy, keep_empty_features=True).fit(train[num].to_numpy(float))

    def cats(df):
        c = df[cat]
        return c.astype(str).where(c.notna(), np.nan)

    imp_cat = SimpleImputer(strategy="most_frequent", keep_empty_features=True).fit(cats(train))
    onehot = OneHotEncoder(handle_unknown="ignore", sparse_output=False).fit(imp_cat.transform(cats(train)))
    return np.concatenate([imp.transform(rows[num].to_numpy(float)),
                           onehot.transform(imp_cat.transform(cats(rows)))], axis=1)


@pytest.mark.parametrize("strategy", ["mean", "median", "most_frequent"])
def test_encoding_equals_sklearn_including_missing_and_unknown_values(strategy):
    train, rows = frame(0), frame(1)
    rows.loc[3, "colour"] = "purple"  # unseen category: all zeros
    enc = TableEncoder.fit(train, strategy)
    expected = sklearn_reference(train, rows, strategy)
    assert np.allclose(enc.transform(rows).numpy(), expected.astype(np.float32))
    assert enc.feature_names[:2] == ["x", "k"] and "colour_red" in enc.feature_names


def test_encoder_round_trips_through_json():
    train = frame(0)
    enc = TableEncoder.fit(train, "mean")
    again = TableEncoder.from_dict(json.loads(json.dumps(enc.to_dict())))
    assert again == enc
    assert np.array_equal(again.transform(frame(2)).numpy(), enc.transform(frame(2)).numpy())


def test_missing_columns_are_named():
    enc = TableEncoder.fit(frame(0), "mean")
    with pytest.raises(DataError, match=r"columns missing from the table; allowed: a table with the columns x, k"):
        enc.transform(frame(1).drop(columns=["k"]))
