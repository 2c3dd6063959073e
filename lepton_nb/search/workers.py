"""Several processes on one study: ``lepton-nb tune --workers N``.

This process creates the study (and its folder), starts N worker processes that each run trials of the
same study (``python -m lepton_nb.search.worker STUDY_FOLDER --worker i``), shows one progress bar over
trials with the best value so far by reading the database, and writes the study's files when they end.
The CPU cores are shared out between the workers. Ctrl-C reaches every worker: each stops its trial
after the current batch and the study stays resumable.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from ..errors import UsageError
from ..recipe import Recipe
from .engine import _best_value, finish, finished_count, open_study, prepare, say_pruning_note
from .folder import StudyFolder
from .result import Study

MAX_WORKERS = 64


def check_workers(workers: Any) -> int:
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise UsageError("--workers", workers, f"allowed: a whole number from 1 to {MAX_WORKERS}")
    return workers


def worker_command(folder: StudyFolder, index: int) -> list[str]:
    return [sys.executable, "-m", "lepton_nb.search.worker", str(folder.path), "--worker", str(index)]


def run_workers(recipe: Recipe | dict | str | Path, out: str | Path, workers: int, *, trials: int | None = None,
                timeout: float | None = None, storage: str | None = None, resume: bool = False,
                progress: bool = True, poll: float = 0.5) -> tuple[Study, bool]:
    """Run the study on ``workers`` processes; returns the `Study` and whether Ctrl-C stopped it."""
    check_workers(workers)
    recipe = prepare(recipe, trials=trials, timeout=timeout, storage=storage)
    if progress:
        say_pruning_note(recipe)
    folder = StudyFolder.for_recipe(out, recipe)
    study = open_study(folder, recipe, resume=resume)
    env = dict(os.environ)
    env["OMP_NUM_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    env["PYTHONPATH"] = os.pathsep.join([str(Path(__file__).resolve().parents[2]), env.get("PYTHONPATH", "")])
    procs = [subprocess.Popen(worker_command(folder, i + 1), env=env) for i in range(workers)]
    total = recipe.search.trials
    bar = None
    if progress:
        from tqdm.std import tqdm  # the plain bar: tqdm.auto would import ipywidgets into the core

        bar = tqdm(total=total, initial=min(finished_count(study), total), desc=f"trials ({workers} workers)",
                   unit="trial", dynamic_ncols=True)
    interrupted = False
    previous = signal.getsignal(signal.SIGINT)

    def on_sigint(signum: int, frame: Any) -> None:  # the workers got it too: they stop after their batch
        nonlocal interrupted
        interrupted = True
        print("\nstopping every worker after its current batch…", file=sys.stderr, flush=True)

    try:
        signal.signal(signal.SIGINT, on_sigint)
    except ValueError:  # not the main thread
        previous = None
    try:
        while any(p.poll() is None for p in procs):
            time.sleep(poll)
            if bar is not None:
                bar.n = min(finished_count(study), total)
                best = _best_value(study)
                bar.set_postfix_str(f"best {recipe.search.objective} {best:.4f}" if best is not None else "",
                                    refresh=False)
                bar.refresh()
    finally:
        for p in procs:
            p.wait()
        if bar is not None:
            bar.close()
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    failed = [p.returncode for p in procs if p.returncode not in (0, 130, -signal.SIGINT)]
    if failed and not interrupted:
        print(f"lepton-nb: {len(failed)} worker(s) ended with exit codes {failed}", file=sys.stderr)
    return finish(study, folder, recipe), interrupted
