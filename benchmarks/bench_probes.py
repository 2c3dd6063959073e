"""Attribution probes within their budget: frames and probe time on the default recipe, on a 3-epoch run, and
on a text transformer (IMDb sentences), whose frames also carry the attention rollout of every probe sentence.

For each run (default settings: ``every_n_epochs: 0``, ``budget: 0.05``) it records the frames' epochs,
the seconds of the epoch-end probes as a share of the training time (the epochs' own seconds, what the
budget is a share of) and of the whole fit, and the one-off warm-up before training; for the transformer
also the attention maps' own share (one rollout of the probe set, timed on the trained model, × frames).
Targets: at least 8 frames on the default run, and a probe share within the budget on every run.
Run: ``.venv/bin/python benchmarks/bench_probes.py`` (about a minute on 2 idle cores).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

import torch

import lepton_nb as lnb
from lepton_nb.interpret.attention import has_attention, token_rollout

ROOT = Path(__file__).resolve().parents[1]
IMDB = ROOT.parent / "shared" / "data" / "sentiment" / "imdb_labelled.txt"
TRANSFORMER = {"data.source": "text_tsv", "data.path": str(IMDB), "data.max_len": 48, "model.arch": "text_transformer",
               "model.embed_dim": 64, "model.heads": 4, "model.depth": 2, "model.hidden": 128,
               "augment.ops": [], "train.epochs": 12, "train.lr": 3e-3}


def attention_seconds(run: lnb.Run, frames: int) -> float:
    """The attention maps' part of the probes: one rollout of the probe set (median of 5) × frames."""
    meta = run.history.meta["probes"]
    ids = run.data.inputs(meta["split"])[torch.as_tensor(meta["indices"])]
    times = []
    for _ in range(5):
        t0 = time.perf_counter()
        token_rollout(run.model, ids)
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * frames


def measure(recipe: lnb.Recipe, data: lnb.DataBundle) -> dict[str, object]:
    """One run: its frames and the probes' seconds against training and fit time."""
    t0 = time.perf_counter()
    run = lnb.train(recipe, data=data.rebind(recipe), progress=False, out=None, report=False)
    fit_s = time.perf_counter() - t0
    meta = run.history.meta
    train_s = sum(e["seconds"] for e in run.history.epochs)
    probe_s, warmup_s = meta.get("probe_seconds", 0.0), meta.get("probe_warmup_seconds", 0.0)
    frames = run.history.artifacts.get("attributions", [])
    attention_s = attention_seconds(run, len(frames)) if has_attention(run.model) else 0.0
    return {"frames": [f["epoch"] for f in frames],
            "train_s": train_s, "fit_s": fit_s, "probe_s": probe_s, "warmup_s": warmup_s,
            "probe_share": probe_s / train_s, "fit_share": (probe_s + warmup_s) / fit_s,
            "attention_s": attention_s, "attention_share": attention_s / train_s,
            "note": meta.get("probe_note", "")}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", default=str(ROOT / "benchmarks" / "results" / "probes.json"))
    args = parser.parse_args(argv)
    base = lnb.Recipe.default()
    data = lnb.build_data(base)
    text = lnb.Recipe.preset("sentiment").updated(TRANSFORMER)
    text_data = lnb.build_data(text)
    runs = {f"default ({base.train.epochs} epochs)": (base, data),
            "3 epochs": (base.updated({"train.epochs": 3}), data),
            "transformer, IMDb (12 epochs)": (text, text_data)}
    for recipe, d in runs.values():  # warm-up (imports, first calls)
        lnb.train(recipe.updated({"train.epochs": 1}), data=d.rebind(recipe), progress=False, out=None, report=False)
    raw: dict[str, list[dict[str, object]]] = {name: [] for name in runs}
    for _ in range(args.repeats):
        for name, (recipe, d) in runs.items():
            raw[name].append(measure(recipe, d))
    summary = {}
    print(f"attribution probes, budget {base.interpret.budget:.0%}, medians of {args.repeats}:")
    print(f"  {'run':<20} {'frames':>6} {'probe/train':>11} {'probes+warm-up/fit':>18} {'warm-up':>8}  epochs")
    for name, rs in raw.items():
        med = {k: statistics.median(float(r[k]) for r in rs)  # type: ignore[arg-type]
               for k in ("train_s", "fit_s", "probe_s", "warmup_s", "probe_share", "fit_share", "attention_s",
                         "attention_share")}
        med["frames"] = statistics.median(len(r["frames"]) for r in rs)  # type: ignore[arg-type]
        summary[name] = med
        print(f"  {name:<20} {med['frames']:>6.0f} {100 * med['probe_share']:>10.1f}% "
              f"{100 * med['fit_share']:>17.1f}% {1000 * med['warmup_s']:>6.0f}ms  {rs[0]['frames']}")
        if med["attention_s"]:
            print(f"  {'':<20} attention maps: {1000 * med['attention_s']:.0f} ms, "
                  f"{100 * med['attention_share']:.2f} % of training")
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
