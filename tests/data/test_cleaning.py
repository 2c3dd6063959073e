import numpy as np
import pandas as pd
import torch

from lepton_nb.data.cleaning import clean_pool
from lepton_nb.data.sources import Pool
from lepton_nb.recipe import CleanSection


def test_image_duplicates_removed_and_conflicts_reported():
    x = torch.zeros(6, 1, 2, 2)
    x[1] += 1
    x[3] += 1
    x[4] += 2
    labels = np.array([0, 1, 0, 1, 2, 1])  # 2 repeats 0, 3 repeats 1; 5 has 0's pixels with another label
    pool, report = clean_pool(Pool("image", x, labels, ["a", "b", "c"]), CleanSection())
    assert len(pool) == 4 and report.before == 6 and report.after == 4
    step = report.steps[0]
    assert step.removed == 2 and "1 input(s) appear with different labels" in step.detail


def test_train_samples_identical_to_test_are_removed():
    train = torch.arange(5, dtype=torch.float32).view(5, 1, 1, 1)
    test = torch.tensor([3.0, 9.0]).view(2, 1, 1, 1)
    pool = Pool("image", train, np.zeros(5, dtype=np.int64), ["a"],
                fixed_test=Pool("image", test, np.zeros(2, dtype=np.int64), ["a"]))
    cleaned, report = clean_pool(pool, CleanSection())
    assert cleaned.inputs.flatten().tolist() == [0, 1, 2, 4]
    assert any(s.name == "train/test overlap" and s.removed == 1 for s in report.steps)


def test_text_duplicates_ignore_whitespace_only():
    texts = ["Great  film", "Great film", "great film"]
    pool, report = clean_pool(Pool("text", texts, np.array([1, 1, 1]), ["0", "1"]), CleanSection())
    assert pool.inputs == ["Great  film", "great film"]


def test_table_missing_rows_dropped_then_duplicates():
    frame = pd.DataFrame({"a": [1.0, None, 1.0, 2.0], "b": ["x", "y", "x", "z"]})
    pool, report = clean_pool(Pool("tabular", frame, np.array([0, 1, 0, 1]), ["0", "1"]), CleanSection())
    assert len(pool) == 2
    assert [s.name for s in report.steps] == ["missing values", "duplicates"]
    assert str(report).startswith("4 samples → 2 after cleaning")


def test_dedupe_can_be_turned_off():
    x = torch.zeros(3, 1, 2, 2)
    pool, report = clean_pool(Pool("image", x, np.zeros(3, dtype=np.int64), ["a"]), CleanSection(dedupe=False))
    assert len(pool) == 3 and report.removed == 0
