"""The studio's worker process, measured inside a real IPython kernel (widget messages really go out).

  1. wall time of a run started from the Studio (worker process, live monitor at 4 Hz, probes as the recipe
     says) vs the same recipe and data trained headless by ``lnb.train`` in a plain Python process, and vs the
     Studio with ``worker="thread"``; interleaved rounds, median and min (targets: ≤ 1.05x on the MNIST CNN,
     ≤ 1.3x on the digits CNN);
  2. peak memory of kernel + worker together during a run (target ≤ 1.5 GB on the default digits run): the
     sum of their proportional set sizes (PSS), so torch's shared libraries, mapped by both, count once;
     measured in a fresh kernel per mode that displays one studio and runs the default recipe (as a user's
     kernel; the target), and also in the kernel of part 1, which holds both studios and trained in a thread;
  3. a cold worker: from ``warm_up()`` to ready (torch imported), and ``Studio()`` displayed → first live
     point; a warm worker: ``start()`` → first live point;
  4. Stop: from ``stop()`` to the run's last batch (state leaves running) and to the run being done.

Run: ``.venv/bin/python benchmarks/bench_worker.py`` (several minutes on 2 cores; ``--quick`` for a smoke run).
Results: benchmarks/results/worker.json.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path
from typing import Any

from jupyter_client.manager import start_new_kernel

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
SHARED = ROOT.parent / "shared" / "data"

RECIPES = """
import lepton_nb as lnb
def recipes(epochs):
    out = {"digits_cnn": lnb.Recipe.default().updated({"train.epochs": epochs})}
    if SHARED_OK:
        out["mnist_cnn"] = lnb.Recipe.preset("mnist").updated({
            "data.root": SHARED, "data.download": False, "data.official_split": "test", "train.epochs": 3,
            "interpret.enabled": False})
    return out
"""

PEAK = """
import psutil, time
def peak_memory(studio, box):
    me = psutil.Process()
    while not box.get("done"):
        process = getattr(studio.session.runner, "process", None)  # the training process, with a ProcessRunner
        procs = [me] + ([psutil.Process(process.pid)] if process is not None and process.pid else [])
        try:
            box["peak"] = max(box.get("peak", 0), sum(p.memory_full_info().pss for p in procs))
        except psutil.Error:
            pass
        time.sleep(0.2)
"""

HEADLESS = RECIPES + """
import json, sys
name, repeats = sys.argv[1], int(sys.argv[2])
recipe = recipes(EPOCHS)[name]
data = lnb.build_data(recipe)
lnb.train(recipe.updated({"train.epochs": 1}), data=data.rebind(recipe), progress=False, out=None, report=False)
seconds = [lnb.train(recipe, data=data.rebind(recipe), progress=False, out=None, report=False).seconds
           for _ in range(repeats)]
print("RESULT" + json.dumps(seconds))
"""

SETUP = RECIPES + PEAK + """
import json, os, time, threading, psutil
from IPython.display import display
t0 = time.perf_counter()
studio = lnb.Studio(recipes(EPOCHS)["digits_cnn"], out=None)
display(studio)
studio.session.warm_up()
studio.wait_data(300)
studio.start()
while studio.monitor._sent.get("batch_loss", 0) == 0:
    time.sleep(0.001)
cold_first_point = time.perf_counter() - t0
studio.wait(600)
t0 = time.perf_counter(); studio.start()
while studio.monitor._sent.get("batch_loss", 0) == 0:
    time.sleep(0.001)
warm_first_point = time.perf_counter() - t0
studio.wait(600)
thread_studio = lnb.Studio(recipes(EPOCHS)["digits_cnn"], out=None, worker="thread")
display(thread_studio)
thread_studio.wait_data(300)
"""

MEASURE = """
result = {"cold_first_point_s": cold_first_point, "warm_first_point_s": warm_first_point}
for name, recipe in recipes(EPOCHS).items():
    for s in (studio, thread_studio):
        s.load_recipe(recipe)
        s.wait_data(600)
    times = {"process": [], "thread": []}
    for r in range(REPEATS):
        for mode, s in ((("process", studio), ("thread", thread_studio)) if r % 2 == 0 else
                        (("thread", thread_studio), ("process", studio))):
            box = {}
            watcher = threading.Thread(target=peak_memory, args=(s, box))
            watcher.start()
            assert s.start(), s.monitor.message
            assert s.wait(1200)
            box["done"] = True
            watcher.join()
            times[mode].append(s.run.seconds)
            result.setdefault("peak_pss_mb", {}).setdefault(name + "/" + mode, []).append(box.get("peak", 0) / 2**20)
    result[name] = times
studio.load_recipe(recipes(EPOCHS)["digits_cnn"].updated({"train.epochs": 200}))
studio.wait_data(300)
stops = []
for _ in range(3):
    studio.start()
    while studio.session.state != "running" or studio.session.trainer.global_step < 50:
        time.sleep(0.005)
    t0 = time.perf_counter(); studio.stop()
    while studio.session.state == "running":
        time.sleep(0.001)
    last_batch = time.perf_counter() - t0
    studio.wait(600)
    stops.append({"to_last_batch_s": last_batch, "to_done_s": time.perf_counter() - t0})
result["stop"] = stops
print("RESULT" + json.dumps(result))
"""


def run_in_kernel(code: list[str]) -> dict:
    km, kc = start_new_kernel(kernel_name="python3", cwd=str(ROOT))
    outputs: list[str] = []

    def hook(msg: dict) -> None:
        if msg["msg_type"] == "stream":
            outputs.append(msg["content"]["text"])
        elif msg["msg_type"] == "error":
            outputs.append("\n".join(msg["content"]["traceback"]))

    try:
        for cell in code:
            reply = kc.execute_interactive(cell, timeout=3600, output_hook=hook)
            if reply["content"]["status"] != "ok":
                raise RuntimeError("".join(outputs))
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
    return json.loads(next(line for line in "".join(outputs).splitlines() if line.startswith("RESULT"))[6:])


def headless(code: str, name: str, repeats: int) -> list[float]:
    out = subprocess.run([sys.executable, "-c", code, name, str(repeats)], capture_output=True, text=True,
                         cwd=ROOT, check=True).stdout
    return json.loads(next(line for line in out.splitlines() if line.startswith("RESULT"))[6:])


MEMORY = RECIPES + PEAK + """
import json, time, threading, psutil
from IPython.display import display
if not SHARE:  # the data copied to the worker, as before shared memory
    import lepton_nb.workflows.session.shared_data
    lepton_nb.workflows.session.shared_data.SHARE_BYTES = 2**62
studio = lnb.Studio(recipes(EPOCHS)[WORKLOAD], out=None, worker=MODE)
display(studio)
box = {}
watcher = threading.Thread(target=peak_memory, args=(studio, box))
watcher.start()
studio.wait_data(300)
for _ in range(REPEATS):
    assert studio.start(), studio.monitor.message
    assert studio.wait(1200)  # the finished-run panels too
box["done"] = True
watcher.join()
print("RESULT" + json.dumps({"peak_pss_mb": box["peak"] / 2**20}))
"""


def fresh_kernel_memory(fill: Any, mode: str, workload: str = "digits_cnn", share: bool = True) -> float:
    """Peak PSS of a kernel that uses one studio only (as a user's), with its worker when it has one."""
    code = fill(MEMORY).replace("MODE", repr(mode)).replace("WORKLOAD", repr(workload)).replace("SHARE", str(share))
    return run_in_kernel([code])["peak_pss_mb"]


def memory_runs(fill: Any, shared_ok: bool) -> dict[str, float]:
    """Fresh kernels: digits in a worker and in a thread; MNIST-10k in a worker with and without shared memory."""
    runs = {"digits_cnn/process": fresh_kernel_memory(fill, "process"),
            "digits_cnn/thread": fresh_kernel_memory(fill, "thread")}
    if shared_ok:
        runs["mnist_cnn/process, shared memory"] = fresh_kernel_memory(fill, "process", "mnist_cnn")
        runs["mnist_cnn/process, copied"] = fresh_kernel_memory(fill, "process", "mnist_cnn", share=False)
        runs["mnist_cnn/thread"] = fresh_kernel_memory(fill, "thread", "mnist_cnn")
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--epochs", type=int, default=12, help="digits epochs (the default recipe's 12)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="3 epochs, 1 repeat")
    parser.add_argument("--memory-only", action="store_true", help="only part 2 in fresh kernels (printed)")
    parser.add_argument("--out", default=str(RESULTS / "worker.json"))
    args = parser.parse_args(argv)
    if args.quick:
        args.epochs, args.repeats = 3, 1
    shared_ok = (SHARED / "MNIST" / "raw").is_dir()
    sub = {"EPOCHS": str(args.epochs), "REPEATS": str(args.repeats), "SHARED_OK": str(shared_ok),
           "SHARED": repr(str(SHARED))}

    def fill(code: str) -> str:
        for k, v in sub.items():
            code = code.replace(k, v)
        return code

    if args.memory_only:
        for name, mb in memory_runs(fill, shared_ok).items():
            print(f"{name}: peak kernel + worker PSS {mb:.0f} MB")
        return 0
    result = run_in_kernel([fill(SETUP), fill(MEASURE)])
    names = ["digits_cnn"] + (["mnist_cnn"] if shared_ok else [])
    summary: dict = {"epochs": args.epochs, "repeats": args.repeats, **result}
    print("| workload | headless lnb.train (s) | Studio, worker process | Studio, thread |")
    print("|---|---|---|---|")
    for name in names:
        plain = headless(fill(HEADLESS), name, args.repeats)
        base = statistics.median(plain)
        summary[name]["headless"] = plain
        cells = []
        for mode in ("process", "thread"):
            t = summary[name][mode]
            summary[name][f"{mode}_over_headless"] = statistics.median(t) / base
            cells.append(f"{statistics.median(t) / base:.2f}x (min {min(t) / min(plain):.2f}x)")
        print(f"| {name} | {base:.2f} | {cells[0]} | {cells[1]} |")
    peaks = {k: max(v) for k, v in summary["peak_pss_mb"].items()}
    summary["peak_pss_mb_max"] = peaks
    print("peak memory in the shared kernel (both studios), kernel + worker PSS (MB): "
          + ", ".join(f"{k} {v:.0f}" for k, v in peaks.items()))
    fresh = memory_runs(fill, shared_ok)
    summary["fresh_kernel_peak_pss_mb"] = fresh
    print("peak memory in a fresh kernel with one studio, kernel + worker PSS (MB): "
          + ", ".join(f"{k} {v:.0f}" for k, v in fresh.items()) + " (target ≤ 1,500 on digits with the worker)")
    print(f"first live point: Studio() → {summary['cold_first_point_s']:.2f} s (cold worker); "
          f"start() → {summary['warm_first_point_s']:.2f} s (warm worker)")
    stops = summary["stop"]
    print("Stop → last batch: " + ", ".join(f"{s['to_last_batch_s'] * 1000:.0f} ms" for s in stops)
          + "; → run done: " + ", ".join(f"{s['to_done_s']:.2f} s" for s in stops))
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(summary, indent=2))
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
