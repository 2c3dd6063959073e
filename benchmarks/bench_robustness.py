"""Adversarial training on MNIST-10k, side by side in one process: standard vs PGD vs FGSM with random start.

Same model (the ``mnist`` preset's CNN), data split, seeds and epochs for every arm. Measured:
  * clean test accuracy and PGD-20 accuracy at ε = 0.1 and 0.2 (pixels in [0, 1]) on 1,000 test images;
  * training time per epoch relative to standard training; PGD-k training costs about k + 1 forward and
    backward passes per batch, FGSM-RS 2 — the figures say how close to that bound we are;
  * the robustness curve of 8 ε values (FGSM, PGD-20, noise, plus the two sanity-check runs) on 1,000
    test images: seconds.

Data: the real MNIST test split (10,000 images) from ../shared/data, split 7,200 / 800 / 2,000.
Run: ``.venv/bin/python benchmarks/bench_robustness.py`` (about five minutes on 2 idle cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import lepton_nb as lnb

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
CURVE_EPS = [0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3]


def mnist_recipe(data_root: Path, epochs: int) -> lnb.Recipe:
    return lnb.Recipe.preset("mnist").updated({
        "data.root": str(data_root), "data.download": False, "data.official_split": "test",
        "data.val_fraction": 0.1, "data.test_fraction": 0.2, "data.seed": 0, "train.epochs": epochs,
        "interpret.enabled": False})


def arm(recipe: lnb.Recipe, bundle: lnb.DataBundle, name: str, adversarial: dict, n: int) -> dict:
    changes = {f"train.adversarial.{k}": v for k, v in adversarial.items()}
    r = recipe.updated({"name": name, "train.adversarial.val_samples": 0, **changes})
    t0 = time.perf_counter()
    run = lnb.train(r, data=bundle, out=None, progress=False)
    fit = time.perf_counter() - t0
    robust = {}
    for eps in (0.1, 0.2):
        result = lnb.attack(run, "pgd", eps, n=n, steps=20, seed=0)
        robust[f"pgd20@{eps}"] = round(result.accuracy_after, 4)
    epochs = [e["seconds"] for e in run.history.epochs]
    return {"arm": name, "adversarial": adversarial, "clean_accuracy": round(run.metrics["accuracy"], 4),
            **robust, "epoch_seconds": [round(s, 2) for s in epochs],
            "median_epoch_s": round(statistics.median(epochs), 3), "fit_s": round(fit, 1), "run": run}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"), help="folder holding MNIST/raw")
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--pgd-steps", type=int, default=7)
    parser.add_argument("--eps", type=float, default=0.1, help="training ε (pixels in [0, 1])")
    parser.add_argument("--n", type=int, default=1000, help="test images attacked")
    parser.add_argument("--out", default=str(RESULTS / "robustness.json"))
    args = parser.parse_args(argv)
    if not (Path(args.data) / "MNIST" / "raw").is_dir():
        print(f"MNIST not found under {args.data} (expected MNIST/raw); pass --data", file=sys.stderr)
        return 2
    recipe = mnist_recipe(Path(args.data), args.epochs)
    bundle = lnb.build_data(recipe)
    arms = [
        arm(recipe, bundle, "standard", {"method": "none"}, args.n),
        arm(recipe, bundle, f"pgd-{args.pgd_steps}", {"method": "pgd", "eps": args.eps, "steps": args.pgd_steps},
            args.n),
        arm(recipe, bundle, "fgsm-rs", {"method": "fgsm_rs", "eps": args.eps}, args.n),
    ]
    base = arms[0]["median_epoch_s"]
    for a, bound in zip(arms, (1, args.pgd_steps + 1, 2)):
        a["time_per_epoch_vs_standard"] = round(a["median_epoch_s"] / base, 2)
        a["passes_bound"] = bound
    t0 = time.perf_counter()
    curve = lnb.robustness(arms[0]["run"], CURVE_EPS, n=args.n, save=False)[0]
    curve_s = time.perf_counter() - t0
    results = {
        "data": "MNIST test split, 7,200 train / 800 val / 2,000 test",
        "epochs": args.epochs, "train_eps": args.eps,
        "arms": [{k: v for k, v in a.items() if k != "run"} for a in arms],
        "curve": {"eps": CURVE_EPS, "n": curve.n, "seconds": round(curve_s, 1), "accuracy": curve.accuracy,
                  "failed_checks": [c.name for c in curve.warnings]},
    }
    for a in results["arms"]:
        print(f"{a['arm']:>10}: clean {a['clean_accuracy']:.3f}, PGD-20 @0.1 {a['pgd20@0.1']:.3f}, @0.2 "
              f"{a['pgd20@0.2']:.3f}; {a['median_epoch_s']:.2f} s/epoch = {a['time_per_epoch_vs_standard']:.2f}x "
              f"standard (bound {a['passes_bound']}x)")
    print(f"curve of {len(CURVE_EPS)} ε × 3 attacks on {curve.n} test images: {curve_s:.1f} s; "
          f"failed checks: {results['curve']['failed_checks'] or 'none'}")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
