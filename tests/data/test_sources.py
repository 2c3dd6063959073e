import gzip

import numpy as np
import pytest
import torch
from PIL import Image

import lepton_nb as lnb
from lepton_nb.data.sources import read_idx
from lepton_nb.errors import DataError


def test_digits_is_bundled_and_scaled():
    b = lnb.build_data(lnb.Recipe.default())
    assert b.kind == "image" and b.input_shape == [1, 8, 8] and len(b.classes) == 10
    assert sum(b.sizes().values()) == 1797
    x = b.raw("train", slice(0, 50))
    assert float(x.min()) >= 0.0 and float(x.max()) <= 1.0


def test_mnist_official_test_split_only(mnist_root):
    r = lnb.Recipe.preset("mnist").updated({"data.root": str(mnist_root), "data.download": False,
                                            "data.official_split": "test", "data.val_fraction": 0.1,
                                            "data.test_fraction": 0.2})
    b = lnb.build_data(r)
    assert sum(b.sizes().values()) == 10_000
    assert b.sizes() == {"train": 7000, "val": 1000, "test": 2000}
    assert b.train.x.dtype == torch.uint8 and b.input_shape == [1, 28, 28]
    counts = torch.bincount(b.test.y, minlength=10)
    assert counts.min() > 150  # stratified: every digit is in the test split


def test_missing_mnist_names_folder_files_and_remedies(mnist_root, tmp_path):
    r = lnb.Recipe.preset("mnist").updated({"data.root": str(mnist_root), "data.download": False})
    with pytest.raises(DataError) as info:
        lnb.build_data(r)  # official 'standard' needs the train files, which are not there
    msg = str(info.value)
    assert "train-images-idx3-ubyte.gz" in msg and str(mnist_root / "MNIST" / "raw") in msg
    assert "data.download" in msg and "official_split" in msg
    r = r.updated({"data.root": str(tmp_path / "nowhere"), "data.source": "fashion_mnist"})
    with pytest.raises(DataError, match="FashionMNIST/raw"):
        lnb.build_data(r)


def test_read_idx_rejects_truncated_files(tmp_path):
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    header = bytes([0, 0, 8, 3]) + np.array([10, 28, 28], dtype=">i4").tobytes()
    with gzip.open(path, "wb") as fh:
        fh.write(header + bytes(100))
    with pytest.raises(DataError, match="truncated"):
        read_idx(path)


def write_csv(path, rows):
    path.write_text("\n".join(",".join(map(str, r)) for r in rows) + "\n")


def test_csv_numeric_and_categorical_with_missing_values(tmp_path):
    rng = np.random.default_rng(0)
    rows = [["income", "age", "city", "default"]]
    for i in range(200):
        city = ["paris", "oslo", "rome"][i % 3]
        income = "" if i % 17 == 0 else f"{rng.normal(50, 10):.2f}"
        rows.append([income, int(rng.integers(18, 80)), city, "yes" if i % 4 == 0 else "no"])
    path = tmp_path / "credit.csv"
    write_csv(path, rows)
    base = {"data.source": "csv", "data.path": str(path), "model.arch": "tabular_mlp", "augment.ops": []}
    dropped = lnb.build_data(lnb.Recipe.default().updated(base))
    assert dropped.classes == ["no", "yes"]
    assert dropped.feature_names == ["income", "age", "city_oslo", "city_paris", "city_rome"]
    assert sum(dropped.sizes().values()) == 200 - 12
    assert any(s.name == "missing values" and s.removed == 12 for s in dropped.cleaning.steps)
    imputed = lnb.build_data(lnb.Recipe.default().updated({**base, "data.clean.missing": "median",
                                                                   "data.clean.dedupe": False}))
    assert sum(imputed.sizes().values()) == 200
    assert not torch.isnan(imputed.inputs("train")).any()


def test_csv_bad_target_lists_columns(tmp_path):
    path = tmp_path / "t.csv"
    write_csv(path, [["a", "b"], [1, 0], [2, 1], [3, 0]])
    r = lnb.Recipe.default().updated({"data.source": "csv", "data.path": str(path), "data.target": "label",
                                      "augment.ops": [], "model.arch": "tabular_mlp"})
    with pytest.raises(DataError, match="data.target: 'label' — no such column; allowed: a, b"):
        lnb.build_data(r)


def test_text_tsv_vocab_is_fitted_on_train_only(imdb_path):
    r = lnb.Recipe.preset("sentiment").updated({"data.path": str(imdb_path)})
    b = lnb.build_data(r)
    assert b.kind == "text" and b.classes == ["0", "1"] and b.input_shape == [48]
    train_words = {w for t in b.train.texts for w in lnb.data.tokenize(t)}
    assert set(b.vocab.words[2:]) <= train_words
    test_only = {w for t in b.test.texts for w in lnb.data.tokenize(t)} - train_words
    assert test_only  # such words exist, and they map to <unk>
    assert b.test.x.max() < len(b.vocab)


def test_text_tsv_malformed_line_is_named(tmp_path):
    path = tmp_path / "s.txt"
    path.write_text("good movie\t1\nno label here\nbad\t0\n")
    r = lnb.Recipe.preset("sentiment").updated({"data.path": str(path)})
    with pytest.raises(DataError, match=r"s.txt:2.*allowed: 'sentence<TAB>label'"):
        lnb.build_data(r)


def make_image_folder(root, per_class=12, size=10):
    rng = np.random.default_rng(0)
    for c, name in enumerate(["cat", "dog", "emu"]):
        (root / name).mkdir(parents=True)
        for i in range(per_class):
            arr = (rng.random((size, size, 3)) * 80 + c * 80).astype(np.uint8)
            Image.fromarray(arr).save(root / name / f"{i}.png")
    return root


def test_image_folder_in_memory_and_streamed(tmp_path, monkeypatch):
    root = make_image_folder(tmp_path / "imgs")
    r = lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(root),
                                      "data.image_size": 16, "augment.ops": [{"op": "horizontal_flip"}]})
    b = lnb.build_data(r)
    assert not b.lazy and b.classes == ["cat", "dog", "emu"] and b.input_shape == [3, 16, 16]
    monkeypatch.setattr(lnb.data.sources, "IN_MEMORY_BUDGET_BYTES", 0)
    lazy = lnb.build_data(r)
    assert lazy.lazy and lazy.sizes() == b.sizes()
    xb, yb = next(iter(lazy.batches("train", 8, train=True)))
    assert xb.shape == (8, 3, 16, 16) and yb.dtype == torch.long
    assert np.allclose(lazy.norm.mean, b.norm.mean, atol=1e-6)  # all train images fit in the sample


def test_image_folder_errors(tmp_path):
    (tmp_path / "only").mkdir()
    r = lnb.Recipe.default().updated({"data.source": "image_folder", "data.root": str(tmp_path)})
    with pytest.raises(DataError, match="found 1 class folder"):
        lnb.build_data(r)
