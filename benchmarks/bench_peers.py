"""lepton_nb against its peers, side by side: training wall time relative to a bare PyTorch loop.

Run:  ``.venv/bin/python benchmarks/bench_peers.py``          full: 3 epochs, 5 interleaved rounds (estimated
                                                               10-15 minutes on 2 quiet cores)
      ``.venv/bin/python benchmarks/bench_peers.py --quick``  smoke run: 1 round, 1 epoch, 3,000 MNIST images
                                                               (about 5 minutes)
Needs ``.venv`` with the dev extras (nbclient, ipykernel, ipywidgets, matplotlib) and pip access to the registry
the first time. ``--contenders`` and ``--workloads`` take comma-separated subsets; ``--no-tta`` skips part 2.
The first run installs the peers into ``benchmarks/.peers-site`` (``pip install --no-deps --target``, so the
project's torch is never replaced) and puts that folder on the peer kernels' PYTHONPATH only; a peer that cannot
be installed or imported is skipped, and the table says why. Results: ``benchmarks/results/peers.json``
(``peers-quick.json`` for ``--quick``).

Workloads (``peers_workloads.py``; identical model, initial weights, dropout masks, batch order, augmentation,
optimizer and loss for every contender, built as lepton_nb's Trainer builds them; constant learning rate, no
validation split, attribution probes off):
  mnist_cnn   the MNIST preset's CNN on MNIST-10k (the real test split from ../shared/data), 8,000 train / 2,000 test
  mnist_mlp   an MLP (2 x 256, batch norm, dropout 0.1) on the same data
  digits_cnn  the default recipe (scikit-learn's 8x8 digits, affine augmentation), 1,438 train / 359 test
Timed, for every contender: build model and optimizer, train the epochs, evaluate the test split once; the data is
loaded before. Notebook contenders run in a real Jupyter kernel (nbclient, one kernel each, kept for all rounds)
and time their training cell inside the kernel with ``time.perf_counter()``.

Rows:
  bare loop (process)      the loop written by hand, main thread of this plain Python process: 1.00 by definition
  bare loop (kernel)       the same loop in a cell, main thread of a Jupyter kernel
  lnb.train headless       ``lnb.train(recipe, progress=False, out=None)`` in this plain process, probes off
  lnb Session (thread)     lepton_nb's background thread Session in a kernel, no UI (``Studio(worker="thread")``)
  lnb Studio (live)        ``Studio`` displayed in a kernel, then ``start()`` → the run done and listed
                           (``wait(panels=False)``; its panels are drawn afterwards, untimed, while the studio is
                           usable), live curves at 4 Hz; ``--studio-worker`` picks the worker (default: process)
  livelossplot             PlotLosses (matplotlib) updated every 25 batches and at each epoch end
  fastai                   Learner.fit with the same torch optimizer (OptimWrapper), ShowGraphCallback and its
                           progress bars; fastai validates every epoch, on the test split (its curves need it):
                           one extra pass over the test images per epoch that the others do not make
  trainplot                TrainPlot (anywidget) given the loss after every batch
  ignite                   an ignite Engine running the same step, with its tqdm ProgressBar
ratio = median seconds / median seconds of the bare loop in a process (in brackets: min / min), rounds interleaved
(every round runs every contender once per workload, the order rotated each round).
Targets: Studio ≤ 1.05x on mnist_cnn and ≤ 1.3x on digits_cnn.
Before the timed rounds, one untimed round runs every contender on every workload (first-call costs: oneDNN
kernels per shape, matplotlib's first figure, lazy imports). Run it on a quiet machine: in smoke runs on a
loaded machine (load ~5 on 2 cores) loops in a main thread were slowed far more than those in a background thread
(likely OpenMP spin-waiting for cores other processes hold; see bench_studio.py on libgomp), and the ratios said
more about the load than about the contenders.

Time to accuracy: the MNIST preset as a user gets it (one-cycle, 4 epochs, probes on) on MNIST-10k 8,000 / 2,000,
headless (this process) and Studio (a kernel, the studio's default worker process): seconds from start until the
run is done, with the test accuracy of the final model (a one-cycle schedule is planned over its whole length,
so the final model is the one to judge); 98 % counts as reached when that accuracy is at least 0.98.
"""

from __future__ import annotations

import argparse
import contextlib
import inspect
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

import torch

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks"
RESULTS = BENCH / "results"
SITE = BENCH / ".peers-site"
sys.path.insert(0, str(BENCH))

import peers_workloads as pw  # noqa: E402

# peer → (pip requirements installed with --no-deps, import check); fastprogress 1.1 needs fasthtml's web stack
PEERS: dict[str, tuple[list[str], str]] = {
    "livelossplot": (["livelossplot"], "from livelossplot import PlotLosses"),
    "fastai": (["fastai", "fastcore", "fastdownload", "fasttransform", "fastprogress<1.1", "plum-dispatch<2.10",
                "beartype"],
               "from fastai.learner import Learner; from fastai.callback.progress import ShowGraphCallback"),
    "trainplot": (["trainplot"], "from trainplot import TrainPlot"),
    "ignite": (["pytorch-ignite"], "from ignite.engine import Engine; from ignite.handlers import ProgressBar"),
}

# key → (label, where, peer or None)
CONTENDERS: dict[str, tuple[str, str, str | None]] = {
    "bare": ("bare loop (process)", "process", None),
    "bare_kernel": ("bare loop (kernel)", "kernel", None),
    "headless": ("lnb.train headless", "process", None),
    "session": ("lnb Session (thread)", "kernel", None),
    "studio": ("lnb Studio (live)", "kernel", None),
    "livelossplot": ("livelossplot", "kernel", "livelossplot"),
    "fastai": ("fastai", "kernel", "fastai"),
    "trainplot": ("trainplot", "kernel", "trainplot"),
    "ignite": ("ignite", "kernel", "ignite"),
}
CELL = {  # the timed cell of each kernel contender; ``n`` is the workload
    "bare_kernel": "acc = pw.bare_loop(*W[n])",
    "session": "acc = pw.session(*W[n])",
    "studio": ("s = studios[n]\nassert s.start(force=True), s.monitor.message\nassert s.wait(3600, panels=False)\n"
               "acc = float(s.run.metrics['accuracy'])"),
    "livelossplot": "acc = pw.livelossplot(*W[n])",
    "fastai": "acc = pw.fastai(*W[n])",
    "trainplot": "acc = pw.trainplot(*W[n])",
    "ignite": "acc = pw.ignite(*W[n])",
}
# untimed, after the timed cell: the studio draws the finished run's panels after the run is listed (the
# studio is usable meanwhile); the next start would wait for them, so they are awaited outside the timing
AFTER = {"studio": "assert studios[n].wait(3600)\n"}
PROCESS = {"bare": pw.bare_loop, "headless": pw.headless}


# ---- the peers' environment ------------------------------------------------------------------------------

def _importable(check: str) -> str | None:
    """None when ``check`` runs with the peers' folder on the path, else the last line of the error."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(SITE), str(ROOT)]), "MPLBACKEND": "Agg"}
    p = subprocess.run([sys.executable, "-c", check], env=env, capture_output=True, text=True, timeout=300)
    if p.returncode == 0:
        return None
    lines = [ln for ln in p.stderr.strip().splitlines() if ln.strip()]
    return lines[-1] if lines else f"exit code {p.returncode}"


def ensure_peers(wanted: list[str]) -> dict[str, str | None]:
    """Install missing peers into SITE (idempotent); returns peer → None (usable) or the reason it is skipped."""
    status: dict[str, str | None] = {}
    for peer in wanted:
        reqs, check = PEERS[peer]
        if _importable(check) is None:
            status[peer] = None
            continue
        cmd = [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--upgrade", "--target", str(SITE), *reqs]
        p = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
        if p.returncode != 0:
            status[peer] = "pip install failed: " + (p.stderr.strip().splitlines() or ["?"])[-1]
            continue
        status[peer] = _importable(check)
    if (SITE / "torch").exists():  # never shadow the project's torch
        raise SystemExit(f"{SITE} holds a torch; delete the folder and run again")
    return status


# ---- kernels ----------------------------------------------------------------------------------------------

class Kernel:
    """One Jupyter kernel driven by nbclient; cells are executed one by one, outputs parsed then dropped."""

    def __init__(self, extra_path: list[str]):
        import nbformat
        from nbclient import NotebookClient

        self.nbformat = nbformat
        self.client = NotebookClient(nbformat.v4.new_notebook(), kernel_name="python3", timeout=7200,
                                     resources={"metadata": {"path": str(ROOT)}})
        self.client.km = self.client.create_kernel_manager()
        path = os.pathsep.join([*extra_path, str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)
        self.client.start_new_kernel(env={**os.environ, "PYTHONPATH": path})
        self.client.start_new_kernel_client()

    def run(self, code: str) -> str:
        cell = self.nbformat.v4.new_code_cell(code)
        self.client.nb.cells.append(cell)
        index = len(self.client.nb.cells) - 1
        try:
            self.client.execute_cell(cell, index)
            return "".join(o.get("text", "") for o in cell.outputs if o.get("output_type") == "stream")
        finally:  # plots and progress bars are not kept (nor the display ids that point at them)
            cell.outputs = []
            self.client.clear_display_id_mapping(index)

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client._cleanup_kernel()


def _result(text: str) -> dict:
    line = next(ln for ln in text.splitlines() if ln.startswith("RESULT"))
    return json.loads(line[len("RESULT"):])


def setup_code(key: str, names: list[str], epochs: int, quick: bool, data: str, worker: str | None) -> str:
    code = (f"import json, sys, time\nsys.path.insert(0, {str(BENCH)!r})\nimport peers_workloads as pw\n"
            f"W = {{n: pw.load(n, {epochs}, {quick}, {data!r}) for n in {names!r}}}\n")
    if key == "studio":
        code += (
            "import inspect\nimport lepton_nb as lnb\nfrom IPython.display import display\n"
            f"kw = {{'worker': {worker!r}}} if {worker!r} and 'worker' in inspect.signature(lnb.Studio).parameters "
            "else {}\n"
            "mode = kw.get('worker', 'thread (no worker option)' if 'worker' not in "
            "inspect.signature(lnb.Studio).parameters else 'default')\n"
            "studios = {}\n"
            "for n, (r, b) in W.items():\n"
            "    studios[n] = lnb.Studio(r, out=None, **kw)\n"
            "    display(studios[n])\n"
            "    assert studios[n].wait_data(600) is not None, 'the studio did not load the data'\n"
            "print('RESULT' + json.dumps({'mode': mode}))\n")
    else:
        code += "print('RESULT' + json.dumps({}))\n"
    return code


def timed_cell(key: str, name: str) -> str:
    return (f"n = {name!r}\nt0 = time.perf_counter()\n{CELL[key]}\nseconds = time.perf_counter() - t0\n"
            f"{AFTER.get(key, '')}print('RESULT' + json.dumps({{'seconds': seconds, 'accuracy': acc}}))\n")


# ---- time to accuracy ---------------------------------------------------------------------------------------

TTA_KERNEL = """
import json, sys, time
sys.path.insert(0, BENCH)
import peers_workloads as pw
import lepton_nb as lnb
from IPython.display import display
r = pw.tta_recipe(DATA, EPOCHS)
studio = lnb.Studio(r, out=None)
display(studio)
studio.session.warm_up() if hasattr(studio.session, "warm_up") else None
bundle = studio.wait_data(600)
t0 = time.perf_counter()
assert studio.start(force=True), studio.monitor.message
assert studio.session.wait(3600)
seconds = time.perf_counter() - t0
studio.wait(600)
print('RESULT' + json.dumps({'cumulative_seconds': [seconds], 'test_accuracy': [studio.run.metrics['accuracy']]}))
"""


def tta_headless(data: str, epochs: int) -> dict:
    import lepton_nb as lnb

    r = pw.tta_recipe(data, epochs)
    bundle = lnb.build_data(r)
    t0 = time.perf_counter()
    run = lnb.train(r, data=bundle, progress=False, out=None, report=False)
    return {"cumulative_seconds": [time.perf_counter() - t0], "test_accuracy": [run.metrics["accuracy"]]}


def _reached(d: dict, target: float) -> float | None:
    return next((c for c, a in zip(d["cumulative_seconds"], d["test_accuracy"]) if a >= target), None)


# ---- main ---------------------------------------------------------------------------------------------------

def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="smoke run: 1 round, 1 epoch, 3,000 MNIST images")
    parser.add_argument("--epochs", type=int, default=None, help="epochs per run (default 3; --quick 1)")
    parser.add_argument("--repeats", type=int, default=None, help="interleaved rounds (default 5; --quick 1)")
    parser.add_argument("--data", default=str(pw.DATA), help="folder holding MNIST/raw")
    parser.add_argument("--workloads", default=",".join(pw.WORKLOADS))
    parser.add_argument("--contenders", default=",".join(CONTENDERS))
    parser.add_argument("--studio-worker", default="process",
                        help="passed as Studio(worker=...) when Studio has that option ('' never passes it)")
    parser.add_argument("--tta-epochs", type=int, default=4, help="epochs of the time-to-accuracy runs (cap)")
    parser.add_argument("--no-tta", action="store_true", help="skip the time-to-accuracy part")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    epochs = args.epochs or (1 if args.quick else 3)
    repeats = args.repeats or (1 if args.quick else 5)
    out = Path(args.out or RESULTS / ("peers-quick.json" if args.quick else "peers.json"))
    names = [w for w in args.workloads.split(",") if w]
    keys = [k for k in args.contenders.split(",") if k]
    if "bare" not in keys:
        keys.insert(0, "bare")
    if not (Path(args.data) / "MNIST" / "raw").is_dir():
        print(f"MNIST not found under {args.data} (expected MNIST/raw); pass --data", file=sys.stderr)
        return 2

    peers = sorted({CONTENDERS[k][2] for k in keys if CONTENDERS[k][2]})
    print(f"peers: installing/checking {', '.join(peers)} in {SITE} …", flush=True)
    skipped = {p: why for p, why in ensure_peers(peers).items() if why}
    for p, why in skipped.items():
        print(f"  skipped {p}: {why}")
    keys = [k for k in keys if CONTENDERS[k][2] not in skipped]

    t_start = time.perf_counter()
    data = {n: pw.load(n, epochs, args.quick, args.data) for n in names}
    for n, (_, b) in data.items():
        print(f"{n}: {b.describe()}")
    kernels: dict[str, Kernel] = {}
    modes: dict[str, str] = {}
    failed: dict[str, str] = {}
    seconds = {k: {n: [] for n in names} for k in keys}
    accuracy = {k: {n: [] for n in names} for k in keys}
    try:
        for k in keys:
            if CONTENDERS[k][1] != "kernel":
                continue
            print(f"starting a kernel for {CONTENDERS[k][0]} …", flush=True)
            try:
                kernels[k] = Kernel([str(SITE)] if CONTENDERS[k][2] else [])
                info = _result(kernels[k].run(setup_code(k, names, epochs, args.quick, args.data,
                                                         args.studio_worker or None)))
                if "mode" in info:
                    modes[k] = info["mode"]
            except Exception as exc:
                failed[k] = f"{type(exc).__name__}: {str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}"
                print(f"  {k} failed to set up: {failed[k]}")

        def once(k: str, n: str) -> dict:
            if CONTENDERS[k][1] == "process":
                t0 = time.perf_counter()
                acc = PROCESS[k](*data[n])
                return {"seconds": time.perf_counter() - t0, "accuracy": acc}
            return _result(kernels[k].run(timed_cell(k, n)))

        live = [k for k in keys if k not in failed]
        print("warm-up round (untimed) …", flush=True)
        for n in names:
            for k in live:
                if k in failed:
                    continue
                try:
                    once(k, n)
                except Exception as exc:
                    failed[k] = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[-1]}"
                    print(f"  {k} failed: {failed[k]}")
        live = [k for k in live if k not in failed]
        for r in range(repeats):
            print(f"round {r + 1}/{repeats} …", flush=True)
            for n in names:
                shift = r % len(live)
                for k in live[shift:] + live[:shift]:
                    if k in failed:
                        continue
                    try:
                        res = once(k, n)
                    except Exception as exc:
                        failed[k] = f"{type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[-1]}"
                        print(f"  {k} failed: {failed[k]}")
                        continue
                    seconds[k][n].append(res["seconds"])
                    accuracy[k][n].append(res["accuracy"])

        tta: dict = {}
        if not args.no_tta:
            tta_epochs = 2 if args.quick else args.tta_epochs
            print(f"time to 98 % (≤ {tta_epochs} epochs) …", flush=True)
            tta["headless"] = tta_headless(args.data, tta_epochs)
            if "studio" in keys:
                k = Kernel([])
                try:
                    code = (TTA_KERNEL.replace("BENCH", repr(str(BENCH))).replace("DATA", repr(args.data))
                            .replace("EPOCHS", str(tta_epochs)))
                    tta["studio"] = _result(k.run(code))
                except Exception as exc:
                    tta["studio"] = {"error": f"{type(exc).__name__}: {exc}", "cumulative_seconds": [],
                                     "test_accuracy": []}
                finally:
                    k.close()
            for d in tta.values():
                d["seconds_to_98"] = _reached(d, 0.98)
            tta["epochs"] = tta_epochs
            tta["recipe"] = pw.tta_recipe(args.data, tta_epochs).to_dict()
    finally:
        for kern in kernels.values():
            kern.close()

    summary = summarize(keys, names, seconds, accuracy, failed)
    result = {
        "quick": args.quick, "epochs": epochs, "repeats": repeats, "workloads": names,
        "data": {n: b.describe() for n, (_, b) in data.items()},
        "contenders": {k: CONTENDERS[k][0] for k in keys}, "studio_mode": modes.get("studio"),
        "skipped_peers": skipped, "failed": failed, "seconds": seconds, "accuracy": accuracy, "summary": summary,
        "time_to_accuracy": tta, "targets": {"studio_mnist_cnn": 1.05, "studio_digits_cnn": 1.3},
        "machine": {"threads": torch.get_num_threads(), "torch": torch.__version__, "cpu_count": os.cpu_count(),
                    "python": platform.python_version()},
        "total_seconds": time.perf_counter() - t_start,
        "signature_studio": str(inspect.signature(__import__("lepton_nb").Studio)),
    }
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2))
    print()
    print(table(keys, names, summary, modes, epochs, repeats, args.quick))
    for p, why in skipped.items():
        print(f"- {p}: skipped ({why})")
    for k, why in failed.items():
        print(f"- {CONTENDERS[k][0]}: failed ({why})")
    if tta:
        print(f"\nTime to 98 % test accuracy, MNIST-10k 8,000 / 2,000, MNIST preset (one-cycle) capped at "
              f"{tta['epochs']} epochs (probes on):")
        for who in ("headless", "studio"):
            if who in tta:
                d = tta[who]
                reach = d.get("seconds_to_98")
                accs = " ".join(f"{100 * a:.2f}" for a in d["test_accuracy"])
                print(f"  {who:9s} {f'{reach:.2f} s' if reach is not None else 'not reached':>12s}   "
                      f"test acc per epoch: {accs}{'  ' + d['error'] if 'error' in d else ''}")
    print(f"\nwrote {out} ({result['total_seconds']:.0f} s)")
    return 0


def summarize(keys, names, seconds, accuracy, failed) -> dict:
    out: dict = {}
    for k in keys:
        out[k] = {}
        for n in names:
            s, b = seconds[k][n], seconds["bare"][n]
            if not s or not b:
                out[k][n] = None
                continue
            out[k][n] = {"median_s": statistics.median(s), "min_s": min(s),
                         "ratio_median": statistics.median(s) / statistics.median(b), "ratio_min": min(s) / min(b),
                         "accuracy": accuracy[k][n][-1], "accuracies_agree": len(set(accuracy[k][n])) == 1}
    return out


def table(keys, names, summary, modes, epochs, repeats, quick) -> str:
    head = (f"Training time / bare loop in a process: median (min) of {repeats} interleaved round(s), {epochs} "
            f"epoch(s){', QUICK smoke run (noisy, subset)' if quick else ''}; final test accuracy")
    lines = [head, "", "| contender | " + " | ".join(names) + " |", "|---|" + "---|" * len(names)]
    for k in keys:
        label = CONTENDERS[k][0] + (f" [{modes[k]}]" if k in modes else "")
        cells = []
        for n in names:
            c = summary[k][n]
            cells.append("—" if c is None else
                         f"{c['ratio_median']:.2f}x ({c['ratio_min']:.2f}x) · {100 * c['accuracy']:.2f} %")
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    base = summary["bare"]
    lines.append("| *bare loop seconds (median)* | " + " | ".join(
        "—" if base[n] is None else f"{base[n]['median_s']:.2f} s" for n in names) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
