"""Bad data files are refused with the file (and line or folder) named, never silently accepted."""

import pytest
import torch
from PIL import Image

import lepton_nb as lnb
from lepton_nb.data.bundle import DataBundle
from lepton_nb.errors import DataError
from tests.conftest import tiny_recipe


def csv_recipe(path, **changes):
    base = {"data.source": "csv", "data.path": str(path), "model.arch": "tabular_mlp", "augment.ops": [],
            "interpret.method": "auto"}
    return lnb.Recipe.preset("wine").updated({**base, **changes})


def test_an_inf_cell_names_the_file_line_and_column(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{i},{'-inf' if i == 3 else i},{i % 2}" for i in range(30)))
    with pytest.raises(DataError, match=r"t.csv:5' — column 'b' holds -inf"):
        lnb.build_data(csv_recipe(path))


def test_a_two_row_csv_is_refused_instead_of_giving_empty_splits(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("a,y\n1,0\n2,1\n")
    with pytest.raises(DataError, match=r"data\.(val|test)_fraction: .* of 2 samples gives an empty split"):
        lnb.build_data(csv_recipe(path))


def test_a_csv_where_every_row_has_a_gap_names_the_missing_setting(tmp_path):
    path = tmp_path / "gaps.csv"
    path.write_text("a,b,y\n" + "\n".join(f"{i},,{i % 2}" for i in range(30)))
    with pytest.raises(DataError, match="data.clean.missing: 'drop' — drops 30 of 30 rows"):
        lnb.build_data(csv_recipe(path, **{"data.clean.missing": "drop"}))


def test_an_outlier_filter_leaving_one_row_is_refused(tmp_path):
    path = tmp_path / "o.csv"  # row i is the one spike of column f<i>: every row is an outlier somewhere
    rows = [",".join(["1" if j == i else "0" for j in range(40)] + [str(i % 2)]) for i in range(40)]
    path.write_text(",".join(f"f{j}" for j in range(40)) + ",y\n" + "\n".join(rows))
    with pytest.raises(DataError, match="data.clean.outlier_z: 1.0 — the outlier filter leaves 0 of"):
        lnb.build_data(csv_recipe(path, **{"data.clean.outliers": "zscore", "data.clean.outlier_z": 1.0}))


def test_a_cp1252_text_file_is_refused_naming_the_line(tmp_path):
    path = tmp_path / "reviews.txt"
    path.write_bytes(b"fine movie\t1\nawful\t0\ncaf\xe9 scene was great\t1\n")
    with pytest.raises(DataError, match=r"reviews.txt:3' — is not UTF-8: byte 0xe9 on line 3"):
        lnb.build_data(tiny_recipe(**{"data.source": "text_tsv", "data.path": str(path), "model.arch": "text_cnn",
                                      "augment.ops": []}))


def test_an_empty_class_folder_is_refused_naming_it(tmp_path):
    for name in ("cat", "dog"):
        (tmp_path / name).mkdir()
        for i in range(3):
            Image.new("RGB", (8, 8), (i * 40, 0, 0)).save(tmp_path / name / f"{i}.png")
    (tmp_path / "empty").mkdir()
    r = lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(tmp_path)})
    with pytest.raises(DataError, match=r"empty' — this class folder holds no images"):
        lnb.build_data(r)


def test_a_nan_sample_is_named_before_training_touches_batch_norm(digits_bundle):
    x = digits_bundle.train.x.clone()
    x[5, 0, 3, 3] = float("nan")
    bad = DataBundle(**{**digits_bundle.__dict__, "splits": {**digits_bundle.splits, "train": type(
        digits_bundle.train)(x, digits_bundle.train.y)}, "_ready": {}})
    with pytest.raises(DataError, match=r"'train\[5\]' — sample 5 of the train split holds nan at \(0, 3, 3\)"):
        bad.check_finite()
    model = lnb.build_model(tiny_recipe().model, bad.spec())
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with pytest.raises(DataError, match="train"):
        lnb.train(tiny_recipe(), data=bad, model=model, out=None, progress=False)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # running stats untouched
