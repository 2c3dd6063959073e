"""How long each tutorial takes as a student runs it: headless, every epoch its recipes ask for (no
LEPTON_NB_MAX_EPOCHS cap), run-all to the last cell, its studio's run included.

The target is 60 s a tutorial on 2 cores. Wall time depends on what else the machine runs, so beside it this
records the CPU seconds of the kernel and everything it started (the studio's worker, a CLI run, search
workers) and the load average while the notebook ran: on a busy machine, CPU seconds are the steadier figure.

Run: ``PYTHONPATH=. .venv/bin/python benchmarks/bench_tutorials.py [--only 05,09]``; writes
``benchmarks/results/tutorials.json`` (``tutorials_<only>.json`` with ``--only``).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from pathlib import Path

import nbformat
import psutil
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
WAIT = """
import lepton_nb as _lnb
for _value in list(globals().values()):
    if isinstance(_value, _lnb.Studio) and _value.session.state != "idle":
        _value.wait(600)
"""


def cpu_seconds(pid: int) -> float:
    """User + system seconds of a process, its live descendants and the children it has reaped."""
    proc = psutil.Process(pid)
    total = 0.0
    for p in [proc, *proc.children(recursive=True)]:
        try:
            t = p.cpu_times()
        except psutil.Error:
            continue
        total += t.user + t.system + (t.children_user + t.children_system if p is proc else 0.0)
    return total


def run_one(path: Path) -> dict[str, float]:
    nb = nbformat.read(path, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(WAIT))
    work = Path(tempfile.mkdtemp(prefix="bench-tutorial-"))
    client = NotebookClient(nb, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(work)}})
    load0 = os.getloadavg()[0]
    t0 = time.perf_counter()
    try:
        with client.setup_kernel():
            pid = client.km.provisioner.pid
            for index, cell in enumerate(nb.cells):
                client.execute_cell(cell, index)
            wall = time.perf_counter() - t0
            cpu = cpu_seconds(pid)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return {"wall_s": round(wall, 1), "cpu_s": round(cpu, 1), "load_before": round(load0, 2),
            "load_after": round(os.getloadavg()[0], 2)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="comma-separated prefixes, e.g. 05,09")
    args = parser.parse_args()
    os.environ.pop("LEPTON_NB_MAX_EPOCHS", None)
    paths = sorted((ROOT / "notebooks").glob("*.ipynb"))
    if args.only:
        paths = [p for p in paths if p.stem.split("_")[0] in args.only.split(",")]
    results = {}
    for path in paths:
        results[path.stem] = run_one(path)
        print(path.stem, results[path.stem], flush=True)
    out = {"cores": psutil.cpu_count(), "tutorials": results,
           "total_wall_s": round(sum(r["wall_s"] for r in results.values()), 1),
           "total_cpu_s": round(sum(r["cpu_s"] for r in results.values()), 1),
           "note": "wall seconds on a machine other work may share; cpu_s: kernel + worker + children"}
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = f"tutorials_{args.only.replace(',', '_')}.json" if args.only else "tutorials.json"
    (RESULTS / name).write_text(json.dumps(out, indent=1) + "\n")
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
