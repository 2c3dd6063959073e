"""Run folders rebuilt for inference (load_run → predict on raw inputs) and exports checked against PyTorch."""

import json
import warnings

import numpy as np
import pandas as pd
import pytest
import torch
from PIL import Image

import lepton_nb as lnb
from lepton_nb.data import load_clean_pool
from lepton_nb.data.split import split_indices
from lepton_nb.errors import CheckpointError, ModelError, UsageError
from tests.conftest import tiny_recipe, write_sentiment


def reference_predictions(run: lnb.Run) -> np.ndarray:
    """What the trained model predicts on the prepared test split: the ground truth for load_run."""
    model = run.model.eval()
    with torch.no_grad():
        return model(run.data.inputs("test")).argmax(1).numpy()


def as_indices(names: list[str], classes: list[str]) -> np.ndarray:
    return np.array([classes.index(n) for n in names])


def test_run_folder_is_self_describing(digits_run):
    d = digits_run.dir
    assert {"recipe.json", "data.json", "history.json", "metrics.json", "report.html"} <= {p.name for p in d.iterdir()}
    info = json.loads((d / "data.json").read_text())
    assert info["spec"]["classes"] == [str(i) for i in range(10)]
    assert len(info["normalization"]["mean"]) == 1 and info["normalization"]["method"] == "standardize"
    assert (d / "checkpoints" / "best.pt").is_file() and (d / "checkpoints" / "last.pt").is_file()


def test_load_run_predicts_float_uint8_and_image_files_like_the_trained_model(digits_run, tmp_path, monkeypatch):
    calls = []
    real_load = torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real_load(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    loaded = lnb.load_run(digits_run.dir)
    assert calls and all(c is True for c in calls)  # weights only, no pickled code
    assert loaded.extras["checkpoint"].endswith("last.pt")  # a completed run ends with its last weights
    assert loaded.metrics == pytest.approx(digits_run.metrics)
    assert loaded.status == "completed" and loaded.recipe == digits_run.recipe

    expected = reference_predictions(digits_run)
    raw = digits_run.data.raw("test", slice(None))  # float images in [0, 1], as sklearn's digits are
    classes = loaded.preprocessor.spec.classes
    assert np.array_equal(as_indices(loaded.predict(raw), classes), expected)
    assert np.array_equal(as_indices(loaded.predict(raw[:, 0].numpy()), classes), expected)  # [N, H, W] numpy
    assert np.array_equal(as_indices(digits_run.predict(raw), classes), expected)
    probs = loaded.predict_proba(raw)
    assert probs.shape == (len(raw), 10) and np.allclose(probs.sum(1), 1, atol=1e-5)

    # uint8 images (0..255) and PNG files: the same scaling to [0, 1] the training data had
    u8 = (raw * 255).round().to(torch.uint8)
    paths = []
    for i in range(6):
        p = tmp_path / f"{i}.png"
        Image.fromarray(u8[i, 0].numpy(), mode="L").save(p)
        paths.append(p)
    from_u8 = loaded.predict(u8)
    assert loaded.predict(paths) == from_u8[:6]
    assert loaded.predict(Image.open(paths[0])) == from_u8[:1]
    assert np.mean(as_indices(from_u8, classes) == expected) > 0.95  # 8-bit rounding of [0, 1] floats


def test_load_run_best_and_last_and_bad_inputs(digits_run, tmp_path):
    best = lnb.load_run(digits_run.dir, checkpoint="best")
    assert best.extras["checkpoint"].endswith("best.pt")
    with pytest.raises(CheckpointError, match="checkpoint: 'newest'"):
        lnb.load_run(digits_run.dir, checkpoint="newest")
    with pytest.raises(UsageError, match="no such run folder"):
        lnb.load_run(tmp_path / "nope")
    with pytest.raises(lnb.DataError, match=r"allowed: images of shape \[1, 8, 8\]"):
        best.predict(torch.zeros(3, 1, 28, 28))
    empty = tmp_path / "empty-run"
    (empty / "checkpoints").mkdir(parents=True)
    for name in ("recipe.json", "data.json"):
        (empty / name).write_text((digits_run.dir / name).read_text())
    with pytest.raises(CheckpointError, match="has no checkpoints"):
        lnb.load_run(empty)


def test_text_run_predicts_raw_sentences(tmp_path):
    path = write_sentiment(tmp_path / "reviews.tsv")
    recipe = tiny_recipe(**{"data.source": "text_tsv", "data.path": str(path), "model.arch": "text_cnn",
                            "model.width": 8, "model.embed_dim": 16, "augment.ops": [], "data.max_len": 12,
                            "train.epochs": 3, "train.lr": 5e-3, "model.dropout": 0.2})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    loaded = lnb.load_run(run.dir)
    sentences = run.data.test.texts
    expected = reference_predictions(run)
    assert np.array_equal(as_indices(loaded.predict(sentences), loaded.preprocessor.spec.classes), expected)
    assert loaded.predict("a wonderful and superb film") == run.predict(["a wonderful and superb film"])
    assert loaded.metrics["accuracy"] > 0.8  # the synthetic words are easy: the model really learned
    exported = lnb.export(loaded, "onnx", tmp_path / "text.onnx")  # int64 token ids in, logits out
    assert exported.max_abs_diff < 1e-4 and exported.agreement == 1.0
    with pytest.raises(lnb.DataError, match="sentences"):
        loaded.predict([1, 2, 3])


def test_tabular_runs_predict_pandas_rows(tmp_path):
    recipe = lnb.Recipe.preset("wine").updated({"train.epochs": 3})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    pool, _ = load_clean_pool(recipe)
    cfg = recipe.data
    _, _, test_idx = split_indices(pool.labels, cfg.val_fraction, cfg.test_fraction, cfg.seed)
    frame = pool.subset(test_idx).inputs
    loaded = lnb.load_run(run.dir)
    assert np.array_equal(as_indices(loaded.predict(frame), loaded.preprocessor.spec.classes),
                          reference_predictions(run))
    assert loaded.predict(frame.iloc[0].to_dict()) == loaded.predict(frame.iloc[:1])
    with pytest.raises(lnb.DataError, match="columns missing"):
        loaded.predict(frame.drop(columns=[frame.columns[0]]))


def test_csv_with_categories_and_missing_values_round_trips(tmp_path):
    rng = np.random.default_rng(0)
    n = 160
    frame = pd.DataFrame({"age": rng.integers(18, 80, n).astype(float), "city": rng.choice(["oslo", "rome", "lima"], n),
                          "income": rng.normal(50, 10, n)})
    frame["label"] = np.where((frame.city == "oslo") | (frame.income > 55), "yes", "no")
    frame.loc[::11, "age"] = np.nan
    frame.to_csv(tmp_path / "t.csv", index=False)
    recipe = tiny_recipe(**{"data.source": "csv", "data.path": str(tmp_path / "t.csv"), "model.arch": "tabular_mlp",
                            "augment.ops": [], "data.clean.missing": "median", "data.limit": 0})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    loaded = lnb.load_run(run.dir)
    rows = pd.DataFrame({"age": [np.nan, 30.0], "city": ["paris", "oslo"], "income": [40.0, 70.0]})  # unknown city
    enc = run.data.encoder
    x = run.data.prepare(enc.transform(rows))
    with torch.no_grad():
        expected = run.model.eval()(x).argmax(1).numpy()
    assert np.array_equal(as_indices(loaded.predict(rows), loaded.preprocessor.spec.classes), expected)
    assert loaded.predict(rows.assign(label="ignored")) == loaded.predict(rows)  # extra columns are ignored


def test_onnx_export_matches_pytorch_with_a_dynamic_batch(digits_run, tmp_path):
    import onnxruntime as ort

    result = lnb.export(digits_run, "onnx")
    assert result.path == digits_run.dir / "export" / "model.onnx" and result.path.is_file()
    assert result.max_abs_diff < 1e-4 and result.agreement == 1.0
    assert result.check_samples == len(digits_run.data.test)
    assert result.torch_ms > 0 and result.runtime_ms > 0 and "onnxruntime" in result.table()
    meta = json.loads(result.metadata_path.read_text())
    assert meta["input"]["shape"] == ["batch", 1, 8, 8] and meta["classes"] == digits_run.predictor().classes
    session = ort.InferenceSession(str(result.path), providers=["CPUExecutionProvider"])
    predictor = digits_run.predictor()
    raw = digits_run.data.raw("test", slice(None))
    for n in (1, 7, len(raw)):  # the batch axis is dynamic
        out = session.run(None, {"input": raw[:n].numpy()})[0]
        assert out.shape == (n, 10)
        assert np.abs(out - predictor.logits(raw[:n]).numpy()).max() < 1e-4
    assert result.to_dict()["format"] == "onnx"


def test_torchscript_export_and_errors(digits_run, tmp_path):
    result = lnb.export(str(digits_run.dir), "torchscript", tmp_path / "m.pt")
    assert result.max_abs_diff < 1e-5
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch.jit.load announces its deprecation
        scripted = torch.jit.load(str(tmp_path / "m.pt"))
    raw = digits_run.data.raw("test", slice(0, 5))
    assert torch.allclose(scripted(raw), digits_run.predictor().logits(raw), atol=1e-5)
    with pytest.raises(UsageError, match="format: 'tflite' — allowed: onnx, torchscript"):
        lnb.export(digits_run, "tflite")
    with pytest.raises(UsageError, match="path: None"):
        lnb.export(digits_run.predictor(), "onnx")


def test_onnx_export_of_a_bilstm_says_why_it_cannot(tmp_path):
    path = write_sentiment(tmp_path / "reviews.tsv", n=80)
    recipe = tiny_recipe(**{"data.source": "text_tsv", "data.path": str(path), "model.arch": "text_bilstm",
                            "model.hidden": 8, "model.embed_dim": 8, "augment.ops": [], "data.max_len": 12,
                            "train.epochs": 1})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    with pytest.raises(ModelError, match="allowed: torchscript"):
        lnb.export(run, "onnx")
    assert lnb.export(run, "torchscript").max_abs_diff < 1e-5
