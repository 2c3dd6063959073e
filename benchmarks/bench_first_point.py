"""From a new kernel to the first live point, in a real IPython kernel on the default recipe.

Measured separately, as a user meets them: ``import lepton_nb``; ``lnb.Studio()`` (the panels built);
displaying it (the worker process starts); the data and the panels' first renders (``wait_data``); and from
Start to the first training loss in the live monitor. The total is from the kernel being ready to the first
live point (target ≤ 5 s on an idle 2-core machine). Each round uses a fresh kernel, so nothing is cached
in memory; the operating system's file cache is warm after the first round (the first is reported too).

Run: ``.venv/bin/python benchmarks/bench_first_point.py [--rounds 3]``. Results: benchmarks/results/first_point.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_worker import run_in_kernel  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"

CELL = """
import time
t0 = time.perf_counter()
import lepton_nb as lnb
t_import = time.perf_counter()
studio = lnb.Studio(out=None)
t_built = time.perf_counter()
from IPython.display import display
display(studio)
t_display = time.perf_counter()
assert studio.start(), studio.monitor.message
t_start = time.perf_counter()
while studio.monitor._sent.get("batch_loss", 0) == 0:
    time.sleep(0.002)
t_point = time.perf_counter()
studio.stop(); studio.wait(120)
import json
print("RESULT" + json.dumps({"import_s": t_import - t0, "studio_built_s": t_built - t_import,
                             "display_s": t_display - t_built, "start_call_s": t_start - t_display,
                             "start_to_point_s": t_point - t_start, "total_s": t_point - t0}))
"""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--out", default=str(RESULTS / "first_point.json"))
    args = parser.parse_args(argv)
    rounds = [run_in_kernel([CELL]) for _ in range(args.rounds)]
    keys = list(rounds[0])
    summary = {"rounds": rounds, "median": {k: statistics.median(r[k] for r in rounds) for k in keys}}
    print("| step | " + " | ".join(f"round {i + 1}" for i in range(len(rounds))) + " | median |")
    print("|---|" + "---|" * (len(rounds) + 1))
    for k in keys:
        print(f"| {k} | " + " | ".join(f"{r[k]:.2f}" for r in rounds) + f" | {summary['median'][k]:.2f} |")
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
