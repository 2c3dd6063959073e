"""Attribution probes within their budget: frames and probe time on the default recipe and on a 3-epoch run.

For each run (default settings: ``every_n_epochs: 0``, ``budget: 0.05``) it records the frames' epochs,
the seconds of the epoch-end probes as a share of the training time (the epochs' own seconds, what the
budget is a share of) and of the whole fit, and the one-off warm-up before training. Targets: at least
8 frames on the default run, and a probe share within the budget on both runs.
Run: ``.venv/bin/python benchmarks/bench_probes.py`` (about a minute on 2 idle cores).
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


def measure(recipe: lnb.Recipe, data: lnb.DataBundle) -> dict[str, object]:
    """One run: its frames and the probes' seconds against training and fit time."""
    t0 = time.perf_counter()
    run = lnb.train(recipe, data=data.rebind(recipe), progress=False, out=None, report=False)
    fit_s = time.perf_counter() - t0
    meta = run.history.meta
    train_s = sum(e["seconds"] for e in run.history.epochs)
    probe_s, warmup_s = meta.get("probe_seconds", 0.0), meta.get("probe_warmup_seconds", 0.0)
    return {"frames": [f["epoch"] for f in run.history.artifacts.get("attributions", [])],
            "train_s": train_s, "fit_s": fit_s, "probe_s": probe_s, "warmup_s": warmup_s,
            "probe_share": probe_s / train_s, "fit_share": (probe_s + warmup_s) / fit_s,
            "note": meta.get("probe_note", "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "probes.json"))
    args = parser.parse_args(argv)
    base = lnb.Recipe.default()
    data = lnb.build_data(base)
    runs = {f"default ({base.train.epochs} epochs)": base, "3 epochs": base.updated({"train.epochs": 3})}
    lnb.train(base.updated({"train.epochs": 1}), data=data.rebind(base), progress=False, out=None,
              report=False)  # warm-up (imports)
    raw: dict[str, list[dict[str, object]]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, recipe in runs.items():
            raw[name].append(measure(recipe, data))
    summary = {}
    print(f"attribution probes, budget {base.interpret.budget:.0%}, medians of {args.repeats}:")
    print(f"  {'run':<20} {'frames':>6} {'probe/train':>11} {'probes+warm-up/fit':>18} {'warm-up':>8}  epochs")
    for name, rs in raw.items():
        med = {k: statistics.median(float(r[k]) for r in rs)  # type: ignore[arg-type]
               for k in ("train_s", "fit_s", "probe_s", "warmup_s", "probe_share", "fit_share")}
        med["frames"] = statistics.median(len(r["frames"]) for r in rs)  # type: ignore[arg-type]
        summary[name] = med
        print(f"  {name:<20} {med['frames']:>6.0f} {100 * med['probe_share']:>10.1f}% "
              f"{100 * med['fit_share']:>17.1f}% {1000 * med['warmup_s']:>6.0f}ms  {rs[0]['frames']}")
        if rs[0]["note"]:
            print(f"  {'':<20} note: {rs[0]['note']}")
    default = summary[next(iter(runs))]
    print(f"targets: ≥ 8 frames on the default run → {default['frames']:.0f}; probe share ≤ "
          f"{base.interpret.budget:.0%} → " + ", ".join(f"{100 * s['probe_share']:.1f} %" for s in summary.values()))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps({"summary": summary, "raw": raw}, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
