"""`lnb.quantize` before and after its move to torchao, side by side: size, accuracy and latency.

Variants of the same trained models (each in one process, one thread, timings interleaved round by round):

* ``float32`` — the run's model;
* ``torch.ao dynamic int8`` — the path lnb.quantize took before (``torch.ao.quantization.quantize_dynamic``,
  deprecated by torch: int8 weights and activations quantized on the fly, fbgemm kernels);
* ``torchao int8 weights`` — what lnb.quantize does now (``Int8WeightOnlyConfig``: int8 weights, float compute);
* ``torchao int8 dynamic`` — torchao's int8 dynamic-activation config (``Int8DynamicActivationInt8WeightConfig``),
  measured to show why lnb.quantize does not use it on CPU;
* ``float16 weights`` — lnb.quantize(run, "float16") now (weights stored in float16).

Models: the default digits CNN, a digits MLP (Linear layers only: what weight quantization covers), the
``sentiment`` preset (text_bow) on the bundled reviews, and the MNIST CNN preset when ../shared/data has MNIST.
Size: bytes of ``torch.save(state_dict)``; accuracy: the test split; latency: median ms per batch of 256.

Run: ``.venv/bin/python benchmarks/bench_quantize.py`` → ``benchmarks/results/quantize.json``.
"""

from __future__ import annotations

import copy
import io
import json
import os
import statistics
import tempfile
import time
import warnings
from pathlib import Path

import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.datasets import reviews_path
from lepton_nb.models.quantize import quantize_model, torchao

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("LEPTON_NB_SHARED", ROOT.parent / "shared")) / "data"


def recipes() -> dict[str, lnb.Recipe]:
    out = {"digits CNN (default recipe)": lnb.Recipe.default(),
           "digits MLP (256 hidden)": lnb.Recipe.default().updated({"model.arch": "mlp", "model.hidden": 256}),
           "sentiment (text_bow)": lnb.Recipe.preset("sentiment").updated({"data.path": str(reviews_path())})}
    if (SHARED_DATA / "MNIST" / "raw").is_dir():
        out["mnist-cnn (official test split)"] = lnb.Recipe.preset("mnist").updated(
            {"data.root": str(SHARED_DATA), "data.download": False, "data.official_split": "test",
             "train.epochs": 2})
    return out


def old_path(model: nn.Module) -> nn.Module:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from torch.ao.quantization import quantize_dynamic

        return quantize_dynamic(copy.deepcopy(model).eval(), {nn.Linear, nn.LSTM}, dtype=torch.qint8)


def torchao_dynamic(model: nn.Module) -> nn.Module:
    torchao()
    from torchao.quantization import Int8DynamicActivationInt8WeightConfig, quantize_

    q = copy.deepcopy(model).eval()
    quantize_(q, Int8DynamicActivationInt8WeightConfig(), filter_fn=lambda m, _: type(m) is nn.Linear)
    return q


def size_of(model: nn.Module) -> int:
    buffer = io.BytesIO()
    torch.save(model.state_dict(), buffer)
    return len(buffer.getvalue())


def measure(run: lnb.Run, rounds: int) -> dict:
    data = run.data
    x, y = data.inputs("test"), data.labels("test")
    batch = torch.cat([x] * -(-256 // len(x)))[:256]
    base = copy.deepcopy(run.model).cpu().eval()
    variants = {"float32": base, "torch.ao dynamic int8 (before)": old_path(base),
                "torchao int8 weights (now)": quantize_model(base, "qint8"),
                "torchao int8 dynamic": torchao_dynamic(base),
                "float16 weights (now)": quantize_model(base, "float16")}
    times: dict[str, list[float]] = {name: [] for name in variants}
    sizes = {name: size_of(model) for name, model in variants.items()}  # torchao tensors: not in inference mode
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for model in variants.values():
            model(batch)  # warm-up
        for _ in range(rounds):  # interleaved: a noisy neighbour slows every variant alike
            for name, model in variants.items():
                t0 = time.perf_counter()
                model(batch)
                times[name].append((time.perf_counter() - t0) * 1000)
        out = {}
        for name, model in variants.items():
            accuracy = float((model(x).argmax(1) == y).float().mean())
            out[name] = {"size_bytes": sizes[name], "accuracy": accuracy,
                         "latency_ms": statistics.median(times[name])}
    ref = out["float32"]
    for row in out.values():
        row["size_vs_float"] = row["size_bytes"] / ref["size_bytes"]
        row["latency_vs_float"] = row["latency_ms"] / ref["latency_ms"]
    return out


def main() -> int:
    torch.set_num_threads(1)
    results: dict = {"machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                                 "torchao": torchao().__version__, "threads": 1, "batch": 256}, "models": {}}
    with tempfile.TemporaryDirectory() as out:
        for name, recipe in recipes().items():
            run = lnb.train(recipe, out=out, progress=False, report=False)
            results["models"][name] = measure(run, rounds=30)
            print(name)
            for variant, row in results["models"][name].items():
                print(f"  {variant:32s} {row['size_bytes'] / 1024:8.1f} KB ({row['size_vs_float']:.2f}x)  "
                      f"acc {row['accuracy']:.4f}  {row['latency_ms']:8.2f} ms ({row['latency_vs_float']:.2f}x)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "quantize.json").write_text(json.dumps(results, indent=1) + "\n")
    print(f"wrote {RESULTS / 'quantize.json'}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
