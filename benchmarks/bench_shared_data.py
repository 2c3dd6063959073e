"""What shared memory saves when the studio's data goes to its worker: kernel + worker memory, shared vs copied.

A `WorkerSession` gets data whose train split is MNIST-sized as float32 (60,000 × 1 × 28 × 28 = 188 MB, made
here from random values: only the bytes matter) and runs a job in the worker that reads all of it. The summed
proportional set size (PSS) of kernel and worker is measured after the job, with the tensors in shared memory
(default) and copied (sharing switched off), each in a fresh Python process.

Run: ``.venv/bin/python benchmarks/bench_shared_data.py``. Results: benchmarks/results/shared_data.json.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"

CODE = """
import dataclasses, json, sys, psutil, torch
import lepton_nb as lnb
from lepton_nb.workflows import WorkerSession
from lepton_nb.workflows.session import shared_data
from benchmarks.bench_shared_data import touch

if sys.argv[1] == "copied":
    shared_data.SHARE_BYTES = 2**62
recipe = lnb.Recipe.default().updated({"train.epochs": 1})
data = lnb.build_data(recipe)
train = data.splits["train"]
x, y = torch.rand(60_000, 1, 28, 28), torch.zeros(60_000, dtype=torch.long)
data.splits["train"] = dataclasses.replace(train, x=x, y=y)
del x, y
session = WorkerSession(out=None)
total = session.call(touch, recipe, data=data)
assert abs(total - float(data.train.x.double().sum())) < 1e-3 * abs(total)
procs = [psutil.Process(), psutil.Process(session.runner.process.pid)]
pss = [p.memory_full_info().pss / 2**20 for p in procs]
session.close()
print("RESULT" + json.dumps({"kernel_mb": pss[0], "worker_mb": pss[1], "sum_mb": sum(pss)}))
"""


def touch(recipe, *, control, data, on_progress):  # noqa: ANN001, ANN201 - a job: runs in the worker
    """Read every value of the train split (all its pages become resident in the worker)."""
    return float(data.train.x.double().sum())


def main() -> int:
    result = {}
    for mode in ("shared", "copied"):
        out = subprocess.run([sys.executable, "-c", CODE, mode], capture_output=True, text=True, cwd=ROOT,
                             check=True).stdout
        result[mode] = json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[6:])
        r = result[mode]
        print(f"{mode}: kernel {r['kernel_mb']:.0f} MB + worker {r['worker_mb']:.0f} MB = {r['sum_mb']:.0f} MB")
    saved = result["copied"]["sum_mb"] - result["shared"]["sum_mb"]
    result["saved_mb"] = saved
    print(f"shared memory saves {saved:.0f} MB of the 188 MB split")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "shared_data.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
