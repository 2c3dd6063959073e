"""Hyperparameter search: TPE + median pruning vs random search without pruning, on the same wall-clock budget.

On the bundled digits with the default model (the digits preset's CNN; ``--epochs`` per trial on ``--limit``
digits, attribution probes and checkpoints off so trials measure training), for each of 3 sampler seeds:
  A. TPE + median pruner vs random sampler without pruning, each given the same budget (``--budget`` s):
     best validation accuracy reached, trials finished, and the time each needed to reach the random
     search's final best (target: TPE in at most half the random search's time);
  B. overhead of the study machinery per trial: the search's wall time minus the trials' own training time,
     over ``--overhead-trials`` one-epoch trials on 300 digits (SQLite storage, TPE, median pruner);
  C. 1 vs 2 worker processes on the same study, the same number of trials (``--worker-epochs`` each):
     wall time and trials/minute.

Run: ``.venv/bin/python benchmarks/bench_search.py [--objective val_loss --out ...]`` (about 15 minutes on 2
cores with the default budget).
These machines are shared and noisy: compare the arms of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import lepton_nb as lnb
from lepton_nb.search import finished_count
from lepton_nb.search.workers import run_workers

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SPACE = {"train.lr": {"log_uniform": [1e-4, 1.0]}, "train.weight_decay": {"uniform": [0.0, 0.2]},
         "model.width": {"choice": [8, 16, 32]}, "model.dropout": {"uniform": [0.0, 0.6]}}
# set from the command line
SEARCH_DEFAULTS = lnb.Recipe.default().search
SIZE: dict[str, Any] = {"epochs": 8, "limit": 0, "objective": "val_accuracy",
                        "warmup_epochs": SEARCH_DEFAULTS.warmup_epochs, "pruner": "median",
                        "startup_trials": SEARCH_DEFAULTS.startup_trials}


def better(a: float, b: float) -> bool:
    """``a`` is at least as good as ``b`` for the objective (accuracy up, loss down)."""
    return a >= b - 1e-12 if SIZE["objective"] != "val_loss" else a <= b + 1e-12


def recipe(name: str, seed: int, sampler: str, pruner: str, budget: float) -> lnb.Recipe:
    return lnb.Recipe.default().updated({
        "name": name, "train.epochs": SIZE["epochs"], "data.limit": SIZE["limit"], "interpret.enabled": False,
        "train.checkpoint": False,
        "search.space": SPACE, "search.trials": 10_000, "search.timeout": budget, "search.sampler": sampler,
        "search.pruner": pruner, "search.seed": seed, "search.startup_trials": SIZE["startup_trials"],
        "search.objective": SIZE["objective"], "search.warmup_epochs": SIZE["warmup_epochs"]})


def arm(out: Path, name: str, seed: int, sampler: str, pruner: str, budget: float) -> dict[str, Any]:
    """One search on a wall-clock budget: the best value over time (seconds since the start)."""
    timeline: list[tuple[float, float]] = []
    t0 = time.perf_counter()
    best = [0.0 if SIZE["objective"] != "val_loss" else float("inf")]

    def on_trial(trial: Any) -> None:
        if trial.value is not None and trial.state.name == "COMPLETE" and better(trial.value, best[0]):
            best[0] = trial.value
        timeline.append((time.perf_counter() - t0, best[0]))

    study = lnb.tune(recipe(name, seed, sampler, pruner, budget), out=out, progress=False, on_trial=on_trial)
    counts = study.counts()
    return {"best": best[0], "finished": finished_count(study.optuna), "counts": counts, "timeline": timeline,
            "seconds": time.perf_counter() - t0}


def time_to(timeline: list[tuple[float, float]], target: float) -> float | None:
    return next((t for t, best in timeline if better(best, target)), None)


def compare(out: Path, seeds: list[int], budget: float) -> dict[str, Any]:
    rows = []
    for seed in seeds:
        tpe = arm(out, f"tpe-{seed}", seed, "tpe", SIZE["pruner"], budget)
        rnd = arm(out, f"random-{seed}", seed, "random", "none", budget)
        target = rnd["best"]
        t_tpe, t_rnd = time_to(tpe["timeline"], target), time_to(rnd["timeline"], target)
        row = {"seed": seed, "tpe_best": tpe["best"], "random_best": rnd["best"], "tpe_finished": tpe["finished"],
               "random_finished": rnd["finished"], "tpe_counts": tpe["counts"], "random_counts": rnd["counts"],
               "tpe_time_to_random_best_s": t_tpe, "random_time_to_own_best_s": t_rnd,
               "ratio": (t_tpe / t_rnd) if t_tpe is not None and t_rnd else None}
        rows.append(row)
        print(json.dumps(row), flush=True)
    ratios = [r["ratio"] for r in rows if r["ratio"] is not None]
    return {"budget_s": budget, "seeds": rows,
            "median_ratio": statistics.median(ratios) if ratios else None,
            "reached": f"{len(ratios)}/{len(rows)} seeds: TPE reached the random search's final best"}


def overhead(out: Path, trials: int) -> dict[str, Any]:
    """Wall time of the search minus the trials' own training time, per trial."""
    r = lnb.Recipe.default().updated({
        "name": "overhead", "data.limit": 300, "train.epochs": 1, "interpret.enabled": False,
        "train.checkpoint": False, "search.space": SPACE, "search.trials": trials, "search.pruner": "median"})
    train_s: list[float] = []
    marks: dict[str, float] = {}
    t0 = time.perf_counter()
    lnb.tune(r, out=out, progress=False, on_run=lambda run: train_s.append(run.seconds),
             on_study=lambda s: marks.setdefault("open", time.perf_counter()),
             on_trial=lambda t: marks.__setitem__("last", time.perf_counter()))
    total = time.perf_counter() - t0
    loop = marks["last"] - marks["open"]
    return {"trials": trials, "train_s_per_trial": statistics.mean(train_s),
            "overhead_ms_per_trial": 1000 * (loop - sum(train_s)) / trials,
            "open_study_s": marks["open"] - t0, "final_files_s": total - (marks["last"] - t0)}


def workers(out: Path, trials: int, epochs: int, limit: int) -> dict[str, Any]:
    """The same trials on one process and on two processes sharing the SQLite study (each worker starts
    Python, imports torch and loads the data: a few seconds that only trials much longer than that repay)."""
    def r(name: str) -> lnb.Recipe:
        return lnb.Recipe.default().updated({
            "name": name, "data.limit": limit, "train.epochs": epochs, "interpret.enabled": False,
            "train.checkpoint": False, "search.space": SPACE, "search.trials": trials, "search.pruner": "none"})

    t0 = time.perf_counter()
    lnb.tune(r("one-worker"), out=out, progress=False)
    one = time.perf_counter() - t0
    t0 = time.perf_counter()
    study, _ = run_workers(r("two-workers"), out, 2, progress=False)
    two = time.perf_counter() - t0
    return {"trials": trials, "epochs": epochs, "limit": limit, "one_worker_s": one, "two_workers_s": two,
            "two_workers_finished": finished_count(study.optuna), "speedup": one / two,
            "trials_per_min": {"1": 60 * trials / one, "2": 60 * finished_count(study.optuna) / two}}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--budget", type=float, default=120.0, help="seconds per search arm (default: 120)")
    parser.add_argument("--epochs", type=int, default=8, help="epochs per trial in the comparison (default: 8)")
    parser.add_argument("--limit", type=int, default=0,
                        help="digits used in the comparison (default 0: all 1,797, so the validation split has 180 "
                             "images and accuracy steps of 0.6 %%; 900 digits gave 90 and a coarse objective)")
    parser.add_argument("--objective", default="val_accuracy", choices=("val_accuracy", "val_loss"),
                        help="what the searches optimize and the time-to-best is read on; val_accuracy saturates "
                             "at 1.0 on digits, so the first perfect trial is mostly luck; val_loss does not")
    parser.add_argument("--warmup-epochs", type=int, default=SEARCH_DEFAULTS.warmup_epochs,
                        help="search.warmup_epochs of the pruned arm (default: the recipe's default, "
                             f"{SEARCH_DEFAULTS.warmup_epochs})")
    parser.add_argument("--pruner", default="median", choices=("median", "hyperband"),
                        help="the TPE arm's pruner (default: median, as the comparison is specified; Optuna's own "
                             "benchmarks found hyperband the better partner of TPE)")
    parser.add_argument("--startup-trials", type=int, default=SEARCH_DEFAULTS.startup_trials,
                        help="search.startup_trials of both arms: random trials before TPE models, and trials "
                             f"the pruner lets finish before it compares (default: the recipe's, "
                             f"{SEARCH_DEFAULTS.startup_trials})")
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--overhead-trials", type=int, default=10)
    parser.add_argument("--worker-trials", type=int, default=8, help="trials in the 1 vs 2 workers part (default: 8)")
    parser.add_argument("--worker-epochs", type=int, default=30,
                        help="epochs per trial there (default: 30, a few seconds per trial on all digits)")
    parser.add_argument("--worker-limit", type=int, default=0, help="digits used there (default 0: all 1,797)")
    parser.add_argument("--parts", nargs="+", choices=("compare", "overhead", "workers"),
                        default=["overhead", "workers", "compare"], help="which parts to run (default: all three)")
    parser.add_argument("--out", default=str(RESULTS / "search.json"))
    args = parser.parse_args(argv)
    SIZE.update(epochs=args.epochs, limit=args.limit, objective=args.objective, warmup_epochs=args.warmup_epochs,
                pruner=args.pruner, startup_trials=args.startup_trials)
    with tempfile.TemporaryDirectory(prefix="lnb-bench-search-") as tmp:
        folder = Path(tmp)
        results: dict[str, Any] = {"settings": {**SIZE, "budget_s": args.budget, "space": SPACE}}
        if "overhead" in args.parts:
            results["overhead"] = overhead(folder, args.overhead_trials)
            print(json.dumps(results["overhead"]), flush=True)
        if "workers" in args.parts:
            results["workers"] = workers(folder, args.worker_trials, args.worker_epochs, args.worker_limit)
            print(json.dumps(results["workers"]), flush=True)
        if "compare" in args.parts:
            results["tpe_vs_random"] = compare(folder, args.seeds, args.budget)
            print(json.dumps({k: v for k, v in results["tpe_vs_random"].items() if k != "seeds"}, indent=2))
    Path(args.out).write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
