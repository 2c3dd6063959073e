"""Beyond one notebook: DDP 1 vs 2 processes, ONNX export, quantization and pruning — the figures to report.

A. Data-parallel training (torch.distributed, gloo on CPU): the same recipe and seed trained by
   ``lepton-nb run`` in 1 process and by ``lepton-nb run --nproc 2`` (torchrun, 2 processes, global
   batch unchanged). Every process uses one thread (OMP_NUM_THREADS=1): 1 process on one core vs 2
   processes on two cores. Wall time of the whole command (process start, data, training, test,
   report), training-loop seconds (sum over epochs, from history.json) and final test metrics.
   Recipes: the default digits recipe (batch norm, dropout, augmentation: per-process batch-norm
   statistics and dropout masks make the runs differ within noise), the same without batch norm and
   dropout (the processes then compute the 1-process gradients up to float summation order), and
   the MNIST CNN preset on the official MNIST test split (8,000 train images).
   max |Δw| between the final weights is reported next to a noise floor: the 1-process run again
   with its initial weights moved by 1e-7 (training amplifies rounding-sized differences, most at the
   peak of the one-cycle learning rate).
B. ONNX: each 1-process run exported with torch.onnx (dynamic batch axis) and checked with
   onnxruntime on its test split: max |onnxruntime − PyTorch| and latency per batch of 1 and 64.
C. Dynamic int8 quantization and 50 % / 80 % global magnitude pruning of the same runs: size on disk
   (and zipped), latency per batch of 256, test accuracy before/after.

Threads: this machine's 2 vCPUs are shared; with 2 intra-op threads the same CNN batch took 1.7 ms or
120 ms depending on the neighbours, so every timing here uses one thread per process.
Run: ``.venv/bin/python benchmarks/bench_deploy.py`` (about three minutes on 2 cores; MNIST parts are
skipped when ../shared/data is absent).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import lepton_nb as lnb

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED_DATA = Path(os.environ.get("LEPTON_NB_SHARED", ROOT.parent / "shared")) / "data"


def recipes() -> dict[str, lnb.Recipe]:
    out = {
        "digits (default recipe)": lnb.Recipe.default(),
        "digits, no batch norm/dropout": lnb.Recipe.default().updated(
            {"name": "digits-exact", "model.batch_norm": False, "model.dropout": 0.0}),
    }
    if (SHARED_DATA / "MNIST" / "raw").is_dir():
        out["mnist-cnn (official test split)"] = lnb.Recipe.preset("mnist").updated(
            {"data.root": str(SHARED_DATA), "data.download": False, "data.official_split": "test",
             "train.epochs": 2})
    return out


def train_cli(recipe_path: Path, out: Path, nproc: int) -> tuple[float, Path]:
    """Run the CLI in a fresh process; (wall seconds, run folder)."""
    cmd = [sys.executable, "-m", "lepton_nb", "run", str(recipe_path), "--out", str(out), "--quiet"]
    if nproc > 1:
        cmd += ["--nproc", str(nproc)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
               OMP_NUM_THREADS="1")
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
    wall = time.perf_counter() - t0
    if proc.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed:\n{proc.stderr[-2000:]}")
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    return wall, run_dir


def run_summary(run_dir: Path, wall: float) -> dict:
    history = json.loads((run_dir / "history.json").read_text())
    metrics = json.loads((run_dir / "metrics.json").read_text())
    test = metrics["test"]
    return {"wall_seconds": wall, "train_seconds": sum(e["seconds"] for e in history["epochs"]),
            "world_size": metrics.get("world_size", 1), "test_loss": test["loss"], **test["metrics"]}


def max_weight_diff(a: Path | torch.nn.Module, b: Path | torch.nn.Module) -> float:
    wa, wb = (x.state_dict() if isinstance(x, torch.nn.Module)
              else lnb.load_run(x, checkpoint="last").model.state_dict() for x in (a, b))
    return max(float((wa[k].float() - wb[k].float()).abs().max()) for k in wa)


def perturbed_run(recipe: lnb.Recipe) -> torch.nn.Module:
    """The 1-process run again, its initial weights moved by N(0, 1e-7): the noise floor of max |Δw|."""
    data = lnb.build_data(recipe)
    model = lnb.build_model(recipe.model, data.spec(), seed=recipe.train.seed)
    gen = torch.Generator().manual_seed(123)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=gen) * 1e-7)
    return lnb.train(recipe, data=data, model=model, out=None, progress=False).model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", default=str(RESULTS / "deploy.json"))
    args = parser.parse_args(argv)
    torch.set_num_threads(1)  # see the docstring: one thread per process for every timing
    results: dict = {"machine": {"cpus": os.cpu_count(), "torch": torch.__version__,
                                 "threads_1_process": torch.get_num_threads()},
                     "A_ddp": {}, "B_onnx": {}, "C_optimize": {}}
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        single_dirs: dict[str, Path] = {}
        for name, recipe in recipes().items():
            path = recipe.to_file(tmp_path / f"{recipe.name}.json")
            wall1, dir1 = train_cli(path, tmp_path / f"{recipe.name}-1", 1)
            wall2, dir2 = train_cli(path, tmp_path / f"{recipe.name}-2", 2)
            single_dirs[name] = dir1
            results["A_ddp"][name] = {"1_process": run_summary(dir1, wall1), "2_processes": run_summary(dir2, wall2),
                                      "max_abs_weight_diff": max_weight_diff(dir1, dir2),
                                      "noise_floor_max_abs_weight_diff": max_weight_diff(dir1, perturbed_run(recipe))}
        for name, run_dir in single_dirs.items():
            if "no batch norm" in name:
                continue
            onnx64 = lnb.export(run_dir, "onnx", tmp_path / f"{run_dir.name}.onnx", batch_size=64, repeats=100)
            onnx1 = lnb.export(run_dir, "onnx", tmp_path / f"{run_dir.name}-1.onnx", batch_size=1, repeats=300)
            results["B_onnx"][name] = {"batch_64": onnx64.to_dict(), "batch_1": onnx1.to_dict()}
            table = lnb.optimize(run_dir, quantize=True, prune=[0.5, 0.8], batch_size=256, repeats=30, save=False)
            results["C_optimize"][name] = table.to_dict()
            results["C_optimize"][name]["table"] = table.table()
    RESULTS.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2, default=str))

    print(f"machine: {results['machine']}")
    print("\nA. DDP (gloo): 1 process vs 2 processes, same recipe, seed and global batch")
    for name, r in results["A_ddp"].items():
        one, two = r["1_process"], r["2_processes"]
        print(f"   {name}")
        for label, v in (("1 process ", one), ("2 processes", two)):
            print(f"     {label}: wall {v['wall_seconds']:6.1f} s, training loop {v['train_seconds']:6.1f} s, "
                  f"test accuracy {v['accuracy']:.4f}, macro F1 {v['f1_macro']:.4f}, loss {v['test_loss']:.4f}")
        print(f"     max |w(2 processes) − w(1 process)| = {r['max_abs_weight_diff']:.2e}   (noise floor: 1 process "
              f"with initial weights moved by 1e-7: {r['noise_floor_max_abs_weight_diff']:.2e})")
    print("\nB. ONNX export checked with onnxruntime (test split)")
    for name, r in results["B_onnx"].items():
        b64, b1 = r["batch_64"], r["batch_1"]
        print(f"   {name}: max abs diff {b64['max_abs_diff']:.2e} over {b64['check_samples']} test samples, same class "
              f"{100 * b64['agreement']:.1f} %")
        for label, b in (("batch 64", b64), ("batch 1 ", b1)):
            print(f"     {label}: PyTorch {b['torch_ms']:.3f} ms, onnxruntime {b['runtime_ms']:.3f} ms "
                  f"(onnxruntime/PyTorch latency ratio {b['runtime_ms'] / b['torch_ms']:.2f})")
    print("\nC. quantization and pruning (test split)")
    for name, r in results["C_optimize"].items():
        print(f"   {name}")
        print("\n".join("     " + line for line in r["table"].splitlines()))
    print(f"\nwrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
