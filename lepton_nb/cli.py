"""The ``lepton-nb`` command: the same recipes as the studio, headless.

Exit codes: 0 done; 1 the run failed (divergence, or an unexpected error: a one-line note, the traceback
in a log file); 2 invalid input (recipe, data, arguments, run folders), every problem listed; 130
stopped by Ctrl-C (the report is still written).
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
from collections.abc import Sequence
from contextlib import contextmanager
from typing import Any

from .errors import LeptonError, Problem, RecipeError, UsageError
from .recipe import PRESETS, Recipe


def process_rank() -> int:
    """This process's rank under torchrun (0 otherwise)."""
    try:
        return int(os.environ.get("RANK", "0"))
    except ValueError:
        return 0


def parse_sets(items: Sequence[str]) -> dict[str, Any]:
    """``KEY=VALUE`` overrides; values are read as JSON when they parse (numbers, true, lists)."""
    changes: dict[str, Any] = {}
    problems = []
    for item in items:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            problems.append(Problem("--set", item, "allowed: KEY=VALUE, e.g. train.lr=0.01"))
            continue
        try:
            changes[key.strip()] = json.loads(value)
        except (ValueError, RecursionError):  # not JSON, or JSON too deep / an integer of thousands of digits
            changes[key.strip()] = value
    if problems:
        raise RecipeError(problems)
    return changes


def load_recipe(path: str | None, sets: Sequence[str]) -> Recipe:
    """A recipe file (or the default recipe) with ``--set`` overrides applied and validated."""
    changes = parse_sets(sets)
    recipe = Recipe.from_file(path) if path else Recipe.default()
    return recipe.updated(changes) if changes else recipe


@contextmanager
def ctrl_c_stops(control: Any):
    """First Ctrl-C stops the run cleanly after the current batch; a second one aborts."""
    def handler(signum: int, frame: Any) -> None:
        if control.stop_requested:
            signal.signal(signal.SIGINT, signal.default_int_handler)
            raise KeyboardInterrupt
        print("\nstopping after this batch (Ctrl-C again to abort)…", file=sys.stderr, flush=True)
        control.stop("interrupted by Ctrl-C")

    try:
        previous = signal.signal(signal.SIGINT, handler)
    except ValueError:  # not the main thread
        previous = None
    try:
        yield
    finally:
        if previous is not None:
            signal.signal(signal.SIGINT, previous)


def print_run(run: Any) -> None:
    print(f"\nrun {run.name}: {run.status}" + (f" — {run.message}" if run.message else ""))
    if run.metrics:
        print("test metrics:")
        for key, value in run.metrics.items():
            print(f"  {key:<18} {value:.4f}")
    if run.dir is not None:
        print(f"run folder: {run.dir}")
        report = run.dir / "report.html"
        if report.exists():
            print(f"report: {report.resolve()}")


def _train_and_report(recipe: Recipe, out: str, quiet: bool, resume: str | None = None) -> int:
    from .training.control import Control
    from .workflows import train

    control = Control()
    with ctrl_c_stops(control):
        run = train(recipe, progress=not quiet, out=out, control=control, resume=resume)
    if process_rank() == 0:  # under torchrun only rank 0 reports (and writes the run folder)
        print_run(run)
    if run.status == "diverged":  # a failed run raises instead of returning (see main)
        return 1
    return 130 if control.reason == "interrupted by Ctrl-C" else 0


def cmd_demo(args: argparse.Namespace) -> int:
    recipe = Recipe.default()
    if args.epochs:
        recipe = recipe.updated({"train.epochs": args.epochs})
    print(f"lepton_nb demo: {recipe.summary()}")
    return _train_and_report(recipe, args.out, args.quiet)


def cmd_run(args: argparse.Namespace) -> int:
    from .tools.launch import check_nproc
    from .training.strategy import env_world_size

    recipe = load_recipe(args.recipe, args.set)
    if args.nproc is not None:
        check_nproc(args.nproc)
    world = env_world_size()
    if args.nproc is not None and world > 1 and args.nproc != world:
        raise UsageError("--nproc", args.nproc, f"this process was started by torchrun with WORLD_SIZE {world}; "
                         "allowed: leave --nproc out under torchrun")
    if args.nproc is not None and args.nproc > 1 and world <= 1:
        return launch_torchrun(recipe, args)
    return _train_and_report(recipe, args.out, args.quiet, args.resume)


def launch_torchrun(recipe: Recipe, args: argparse.Namespace) -> int:
    """``lepton-nb run --nproc N``: validate here, then hand the same command to torchrun (N processes)."""
    import torch

    from .tools.launch import check_nproc, torchrun_args
    from .training.strategy import check_batch_size

    nproc = check_nproc(args.nproc)
    check_batch_size(recipe, nproc)
    cuda = recipe.train.device != "cpu" and torch.cuda.is_available()
    if cuda and nproc > torch.cuda.device_count():
        raise UsageError("--nproc", nproc, f"this machine has {torch.cuda.device_count()} CUDA device(s) and CUDA "
                         "runs one process per device; allowed: at most that many, or --set train.device=cpu")
    cli_args = ["run", args.recipe, "--out", args.out, *[a for s in args.set for a in ("--set", s)]]
    if args.resume:
        cli_args += ["--resume", args.resume]
    if args.quiet:
        cli_args.append("--quiet")
    env = dict(os.environ)
    if not cuda:  # share the cores instead of torchrun's default of one thread per process
        env.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // nproc)))
    command = torchrun_args(nproc, cli_args)
    print(f"lepton-nb: {nproc} processes ({'nccl' if cuda else 'gloo'}): {' '.join(command[1:])}", flush=True)
    proc = subprocess.Popen(command, env=env)
    try:
        return proc.wait()
    except KeyboardInterrupt:  # torchrun got the Ctrl-C too and stops its workers
        proc.wait()
        return 130


def cmd_export(args: argparse.Namespace) -> int:
    from .tools import export

    result = export(args.run, args.format, args.output, checkpoint=args.checkpoint, batch_size=args.batch_size)
    print(result.table())
    print(f"description: {result.metadata_path}")
    return 0


def _prune_amounts(values: Sequence[str] | None) -> list[float] | None:
    if values is None:
        return [0.5]
    if [v.lower() for v in values] == ["none"]:
        return None
    amounts = []
    for v in values:
        try:
            amounts.append(float(v))
        except ValueError:
            raise UsageError("--prune", v, "allowed: fractions between 0 and 1, e.g. 0.5 0.8, or none") from None
    return amounts


def cmd_optimize(args: argparse.Namespace) -> int:
    from .tools import optimize
    from .training.control import Control

    control = Control()
    quantize = False if args.quantize == "none" else args.quantize
    with ctrl_c_stops(control):
        result = optimize(args.run, quantize=quantize, prune=_prune_amounts(args.prune), scope=args.scope,
                          checkpoint=args.checkpoint, split=args.split, batch_size=args.batch_size,
                          save=not args.no_save, control=control)
    print(result.table())
    saved = [v.path for v in result.variants if v.path is not None]
    if saved:
        print("written: " + ", ".join(str(p) for p in saved))
    return 130 if result.status == "stopped" else 0


def cmd_ensemble(args: argparse.Namespace) -> int:
    from .tools import ensemble
    from .training.control import Control

    control = Control()
    with ctrl_c_stops(control):
        result = ensemble(args.runs, weights=args.weights, split=args.split, checkpoint=args.checkpoint,
                          control=control)
    print(result.table())
    return 130 if result.status == "stopped" else 0


def cmd_recipe(args: argparse.Namespace) -> int:
    recipe = Recipe.preset(args.preset)
    if args.output:
        print(f"wrote {recipe.to_file(args.output)}")
    else:
        print(recipe.to_json())
    return 0


def cmd_cv(args: argparse.Namespace) -> int:
    from .training.control import Control
    from .workflows import cross_validate

    if args.folds and not 2 <= args.folds <= 50:
        raise UsageError("--folds", args.folds, "allowed: a whole number from 2 to 50, or leave it out for "
                         "the recipe's evaluate.cv_folds")
    recipe = load_recipe(args.recipe, args.set)
    control = Control()
    with ctrl_c_stops(control):
        result = cross_validate(recipe, args.folds, progress=not args.quiet, control=control,
                                on_fold=lambda i, m: print(f"fold {i + 1}: " + ", ".join(
                                    f"{k} {v:.4f}" for k, v in m.items())))
    print(result.table())
    return 130 if result.status == "stopped" else 0


def cmd_tune(args: argparse.Namespace) -> int:
    from .search import tune
    from .search.workers import check_workers, run_workers
    from .training.control import Control

    recipe = load_recipe(args.recipe, args.set)
    options = {"trials": args.trials, "timeout": args.timeout, "storage": args.storage, "resume": args.resume}
    if check_workers(args.workers) > 1:
        study, interrupted = run_workers(recipe, args.out, args.workers, progress=not args.quiet, **options)
    else:
        control = Control()
        with ctrl_c_stops(control):
            study = tune(recipe, args.out, progress=not args.quiet, control=control, **options)
        interrupted = control.reason == "interrupted by Ctrl-C"
    print(study.table())
    print(f"report: {study.folder.report_path.resolve()}")
    if interrupted:
        print("stopped: the study is kept; continue it with --resume", file=sys.stderr)
    return 130 if interrupted else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="lepton-nb", description="Train and report PyTorch models from recipes.")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("demo", help="the default recipe on bundled 8x8 digits, then a report")
    p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    p.add_argument("--epochs", type=int, default=0, help="override train.epochs")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("run", help="train a recipe file (JSON or YAML)")
    p.add_argument("recipe", help="recipe file; start from `lepton-nb recipe > recipe.json`")
    p.add_argument("--out", default="runs", help="folder for run folders (default: runs)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                   help="change a recipe value, e.g. --set train.lr=0.01 (repeatable)")
    p.add_argument("--resume", help="continue from a run folder or checkpoint file")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--nproc", type=int, default=None, metavar="N",
                   help="train data-parallel on N processes: launches torchrun (gloo on CPU, nccl on CUDA)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("recipe", help="print a starting recipe as JSON")
    p.add_argument("--preset", default="digits", choices=list(PRESETS), help="which preset (default: digits)")
    p.add_argument("-o", "--output", help="write to this file instead of printing")
    p.set_defaults(func=cmd_recipe)

    p = sub.add_parser("cv", help="k-fold cross-validation of a recipe")
    p.add_argument("recipe", nargs="?", help="recipe file (default: the digits preset)")
    p.add_argument("--folds", type=int, default=0, help="number of folds (default: evaluate.cv_folds)")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a recipe value")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_cv)

    p = sub.add_parser("tune", help="hyperparameter search (Optuna) over the recipe's search.space")
    p.add_argument("recipe", help="recipe file with a search section, e.g. \"search\": {\"space\": {\"train.lr\": "
                                  "{\"log_uniform\": [0.0001, 0.1]}}}")
    p.add_argument("--trials", type=int, default=None, help="trials to finish (default: search.trials)")
    p.add_argument("--timeout", type=float, default=None, metavar="S",
                   help="start no new trial after S seconds (default: search.timeout)")
    p.add_argument("--storage", default=None, metavar="URL",
                   help="the study's database (default: SQLite in the study folder); one search on many machines: "
                        "postgresql+psycopg://user@host:5432/db on each (pip install 'lepton_nb[postgres]')")
    p.add_argument("--workers", type=int, default=1, metavar="N", help="worker processes sharing the study")
    p.add_argument("--out", default="runs", help="folder the study folder <name>-search goes in (default: runs)")
    p.add_argument("--resume", action="store_true", help="continue the study in the study folder")
    p.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a recipe value")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.set_defaults(func=cmd_tune)

    checkpoint_help = "which weights: auto (those the run ended with), best, last, or a file in the run folder"
    p = sub.add_parser("export", help="export a run to ONNX or TorchScript, checked against PyTorch")
    p.add_argument("run", help="run folder")
    p.add_argument("--format", default="onnx", choices=["onnx", "torchscript"], help="default: onnx")
    p.add_argument("-o", "--output", help="file to write (default: RUN/export/model.onnx or model.torchscript.pt)")
    p.add_argument("--checkpoint", default="auto", help=checkpoint_help)
    p.add_argument("--batch-size", type=int, default=64, help="batch size of the latency comparison (default: 64)")
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("optimize", help="quantize and/or prune a run; size, latency and metrics before/after")
    p.add_argument("run", help="run folder")
    p.add_argument("--quantize", default="qint8", choices=["qint8", "float16", "none"],
                   help="dynamic quantization of Linear/LSTM layers (default: qint8)")
    p.add_argument("--prune", nargs="+", metavar="AMOUNT",
                   help="fractions of weights to prune by magnitude, e.g. 0.5 0.8, or none (default: 0.5)")
    p.add_argument("--scope", default="global", choices=["global", "layer"],
                   help="prune across all layers at once (global) or each layer alike (layer)")
    p.add_argument("--checkpoint", default="auto", help=checkpoint_help)
    p.add_argument("--split", default="test", help="split to measure metrics on (default: test)")
    p.add_argument("--batch-size", type=int, default=256, help="batch size of the latency measurement")
    p.add_argument("--no-save", action="store_true", help="do not write the variants to RUN/optimized/")
    p.set_defaults(func=cmd_optimize)

    p = sub.add_parser("ensemble", help="average the predictions of runs and evaluate the ensemble")
    p.add_argument("runs", nargs="+", help="two or more run folders trained on the same data")
    p.add_argument("--weights", nargs="+", type=float, help="one weight per run (default: equal)")
    p.add_argument("--split", default="test", help="split to evaluate on (default: test)")
    p.add_argument("--checkpoint", default="auto", help=checkpoint_help)
    p.set_defaults(func=cmd_ensemble)

    from .classroom.command import add_class_parser

    add_class_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except LeptonError as exc:
        rank = process_rank()
        print(f"lepton-nb{f' [rank {rank}]' if rank else ''}: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("lepton-nb: aborted", file=sys.stderr)
        return 130
    except OSError as exc:  # a file named on the command line or in the recipe that the system refuses
        name = exc.filename if exc.filename is not None else ""
        print(f"lepton-nb: file {str(name)[:300]!r}: {exc.strerror or exc}; allowed: a path that exists and that "
              "you can read (and write, for outputs)", file=sys.stderr)
        return 2
    except Exception as exc:  # a bug, not bad input: a short note here, the traceback in a log file
        log = write_error_log(argv)
        print(f"lepton-nb: internal error ({type(exc).__name__}: {str(exc)[:200]}); please report it with "
              f"the log {log}", file=sys.stderr)
        return 1


def write_error_log(argv: Sequence[str] | None) -> str:
    """The current exception's traceback and the command line, in a new file in the temp folder; its path."""
    import tempfile
    import traceback

    fd, path = tempfile.mkstemp(prefix="lepton-nb-error-", suffix=".log")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(f"lepton-nb {' '.join(map(str, sys.argv[1:] if argv is None else argv))[:2000]}\n\n")
        fh.write(traceback.format_exc())
    return path


