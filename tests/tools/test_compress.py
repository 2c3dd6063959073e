"""Weight quantization (torchao) and magnitude pruning of finished runs: size, latency and metrics before/after."""

import numpy as np
import pytest
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.errors import CheckpointError, ModelError
from lepton_nb.models.quantize import quantization, quantize_model
from lepton_nb.recipe import ModelSection
from lepton_nb.tools.compress import prune_model, sparsity
from lepton_nb.training.checkpoint import load_checkpoint
from lepton_nb.training.control import Control
from tests.conftest import tiny_recipe


@pytest.fixture(scope="module")
def mlp_run(tmp_path_factory):
    """An MLP: mostly Linear weights, which dynamic quantization covers."""
    recipe = tiny_recipe(**{"model.arch": "mlp", "model.hidden": 64, "name": "mlp"})
    return lnb.train(recipe, out=tmp_path_factory.mktemp("runs"), progress=False)


def test_quantized_model_is_smaller_on_disk_and_keeps_accuracy(mlp_run):
    result = lnb.quantize(mlp_run, repeats=3)
    original, quantized = result.variants
    assert quantized.name == "int8 weights" and quantized.path.parent == mlp_run.dir / "optimized"
    assert quantized.size_bytes < 0.5 * original.size_bytes  # int8 Linear weights: about a quarter
    assert quantized.path.stat().st_size == quantized.size_bytes
    assert original.metrics["accuracy"] == pytest.approx(mlp_run.metrics["accuracy"])
    assert abs(quantized.metrics["accuracy"] - original.metrics["accuracy"]) <= 0.05
    assert quantized.latency_ms > 0 and original.latency_ms > 0
    table = result.table()
    assert "int8 weights" in table and "size KB" in table and "accuracy" in table
    assert "torchao Int8WeightOnlyConfig) in 3 Linear layer(s)" in quantized.detail
    rows = result.rows()
    assert rows[1]["delta_accuracy"] == pytest.approx(rows[1]["accuracy"] - rows[0]["accuracy"], abs=1e-3)
    assert result.to_dict()["variants"][1]["path"].endswith("quantized-qint8.pt")

    # the file loads back (weights_only) as a quantized model that predicts like the measured one
    loaded = lnb.load_run(mlp_run.dir, checkpoint="optimized/quantized-qint8.pt")
    assert quantization(loaded.model) == "qint8"
    raw = mlp_run.data.raw("test", slice(None))
    measured = quantized.model(raw).argmax(1).numpy()
    assert np.array_equal(np.array([int(c) for c in loaded.predict(raw)]), measured)


@pytest.mark.parametrize("scope", ["global", "layer"])
def test_pruning_reaches_the_requested_sparsity(mlp_run, scope):
    result = lnb.prune(mlp_run, 0.6, scope=scope, repeats=2, save=False)
    pruned = result.variants[1]
    assert pruned.sparsity == pytest.approx(0.6, abs=1e-3) and pruned.path is None
    assert pruned.size_bytes == pytest.approx(result.variants[0].size_bytes, rel=0.02)  # dense tensors
    assert pruned.zipped_bytes < 0.8 * result.variants[0].zipped_bytes  # zeros compress
    if scope == "layer":
        for module in pruned.model.modules():
            if isinstance(module, nn.Linear):
                assert float((module.weight == 0).float().mean()) == pytest.approx(0.6, abs=0.01)
    assert sparsity(mlp_run.model) == 0.0  # the run's own model is untouched


def test_optimize_builds_one_table_and_loads_pruned_weights(digits_run):
    result = lnb.optimize(digits_run, quantize=True, prune=[0.3, 0.9], repeats=2)
    assert [v.name for v in result.variants] == ["original (float32)", "int8 weights", "pruned 30% (global)",
                                                 "pruned 90% (global)"]
    assert result.variants[3].sparsity == pytest.approx(0.9, abs=1e-3)
    assert "conv layer(s) stay float32" in result.variants[1].detail
    pruned = lnb.load_run(digits_run.dir, checkpoint="optimized/pruned-30.pt")
    assert sparsity(pruned.model) == pytest.approx(0.3, abs=1e-3)
    assert pruned.evaluate().metrics["accuracy"] == pytest.approx(result.variants[2].metrics["accuracy"])


def test_quantizing_a_bilstm_covers_its_linear_layers_and_keeps_its_lstm_float():
    spec = lnb.data.DataSpec("text", [12], 2, ["0", "1"], vocab_size=50)
    model = lnb.build_model(ModelSection(arch="text_bilstm", hidden=8, embed_dim=8), spec, seed=0).eval()
    for dtype in ("qint8", "float16"):
        q = quantize_model(model, dtype)
        assert quantization(q) == dtype and quantization(model) is None  # the original is left as it is
        assert all(p.dtype == torch.float32 for m in q.modules() if isinstance(m, nn.LSTM) for p in m.parameters())
        ids = torch.randint(2, 50, (4, 12))
        assert torch.allclose(q(ids), model(ids), atol=0.1)
    pruned, reached = prune_model(model, 0.5)
    assert reached == pytest.approx(0.5, abs=1e-3)
    assert pruned(ids).shape == (4, 2)


def test_bad_arguments_and_stopping(digits_run):
    with pytest.raises(lnb.UsageError, match="amount: 1.5 — allowed: the fraction of weights to prune"):
        lnb.prune(digits_run, 1.5)
    with pytest.raises(lnb.UsageError, match="quantize: 'int4' — allowed"):
        lnb.optimize(digits_run, quantize="int4")
    with pytest.raises(lnb.UsageError, match="nothing to compare"):
        lnb.optimize(digits_run, quantize=False, prune=None)
    with pytest.raises(lnb.UsageError, match="split: 'dev' — allowed: train, val, test"):
        lnb.quantize(digits_run, split="dev")
    control = Control()
    control.stop()
    result = lnb.optimize(digits_run, control=control, save=False, repeats=1)
    assert result.status == "stopped" and [v.name for v in result.variants] == ["original (float32)"]


def test_float16_weights_halve_the_linear_layers_and_export(mlp_run, tmp_path):
    result = lnb.quantize(mlp_run, "float16", repeats=1)
    original, half = result.variants
    assert half.name == "float16 weights" and half.size_bytes < 0.7 * original.size_bytes
    assert abs(half.metrics["accuracy"] - original.metrics["accuracy"]) <= 0.01
    exported = lnb.export(mlp_run.dir, "torchscript", tmp_path / "m.pt", checkpoint="optimized/quantized-float16.pt",
                          repeats=1)
    assert exported.agreement == 1.0


def test_int8_weights_are_refused_by_export_not_a_crash(mlp_run, tmp_path):
    lnb.quantize(mlp_run, repeats=1)
    for fmt in ("torchscript", "onnx"):
        with pytest.raises(ModelError, match="torchao int8 weights, which neither TorchScript nor ONNX"):
            lnb.export(mlp_run.dir, fmt, tmp_path / f"m.{fmt}", checkpoint="optimized/quantized-qint8.pt")


def test_a_checkpoint_quantized_by_torch_ao_says_to_quantize_again(mlp_run):
    legacy = mlp_run.dir / "optimized" / "legacy.pt"
    legacy.parent.mkdir(exist_ok=True)
    torch.save({"model": {"head._packed_params._packed_params": torch.zeros(2)}, "quantized": "qint8"}, legacy)
    with pytest.raises(CheckpointError, match="quantized by an older lepton_nb through torch.ao.quantization"):
        lnb.load_run(mlp_run.dir, checkpoint="optimized/legacy.pt")
def test_a_lora_run_is_merged_before_it_is_pruned_or_quantized(tmp_path):
    """In memory and from disk: the adapters are folded into the layers first, never pruned as A and B apart."""
    recipe = tiny_recipe(**{"model.arch": "mlp", "model.hidden": 32, "name": "lora-mlp", "train.epochs": 1,
                            "model.adapter": {"kind": "lora", "r": 4, "alpha": 8}, "model.freeze": "features"})
    run = lnb.train(recipe, out=tmp_path, progress=False)
    assert any(".lora_" in k for k in run.model.state_dict())
    for source in (run, run.dir):
        result = lnb.optimize(source, quantize=True, prune=0.5, repeats=1)
        for variant in result.variants:
            assert not any(".lora_" in k for k in variant.model.state_dict()), variant.name
        assert result.variants[2].sparsity == pytest.approx(0.5, abs=1e-3)
        assert result.variants[0].metrics["accuracy"] == pytest.approx(run.metrics["accuracy"])
    state = load_checkpoint(run.dir / "optimized" / "pruned-50.pt")["model"]
    assert not any(".lora_" in k for k in state)
    pruned = lnb.load_run(run.dir, checkpoint="optimized/pruned-50.pt")
    assert sparsity(pruned.model) == pytest.approx(0.5, abs=1e-3)
    assert pruned.evaluate().metrics["accuracy"] == pytest.approx(result.variants[2].metrics["accuracy"])
