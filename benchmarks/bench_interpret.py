"""Cost of the live attribution timeline (Captum probes at epoch ends) on the default recipe.

Measures, side by side in one process on the same data: training time per run with probes at the
default settings (``every_n_epochs: 0``: within a 5 % budget), with probes at every epoch, and
without probes; the probes' own time as a share of the training time; and the frames recorded.
Run: ``.venv/bin/python benchmarks/bench_interpret.py`` (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

import lepton_nb as lnb

ROOT = Path(__file__).resolve().parents[1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "interpret.json"))
    args = parser.parse_args(argv)
    base = lnb.Recipe.default()
    data = lnb.build_data(base)
    variants = {"off": {"interpret.enabled": False}, "default": {},
                "every_epoch": {"interpret.every_n_epochs": 1}}
    results: dict[str, dict[str, list[float]]] = {k: {"train_s": [], "probe_s": [], "frames": []} for k in variants}
    lnb.train(base, data=data.rebind(base), progress=False, out=None, report=False)  # warm-up (imports)
    for _ in range(args.repeats):
        for name, changes in variants.items():
            recipe = base.updated(changes)
            run = lnb.train(recipe, data=data.rebind(recipe), progress=False, out=None, report=False)
            results[name]["train_s"].append(sum(e["seconds"] for e in run.history.epochs))
            results[name]["probe_s"].append(run.history.meta.get("probe_seconds", 0.0))
            results[name]["frames"].append(len(run.history.artifacts.get("attributions", [])))
    summary = {}
    for name, r in results.items():
        train_s, probe_s = statistics.median(r["train_s"]), statistics.median(r["probe_s"])
        summary[name] = {"train_seconds": train_s, "probe_seconds": probe_s, "probe_share": probe_s / train_s,
                         "frames": statistics.median(r["frames"]),
                         "epoch_seconds": train_s / base.train.epochs}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "raw": results}, indent=2))
    print(f"default recipe ({base.train.epochs} epochs of {len(data.train)} digits), medians of {args.repeats}:")
    for name, s in summary.items():
        print(f"  {name:<12} training {s['train_seconds']:.2f} s ({s['epoch_seconds'] * 1000:.0f} ms/epoch), "
              f"probes {s['probe_seconds'] * 1000:.0f} ms = {100 * s['probe_share']:.1f} % of training, "
              f"{s['frames']:.0f} frames")
    print(f"target: default timeline cost ≤ 5 % of epoch time → {100 * summary['default']['probe_share']:.1f} %")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
