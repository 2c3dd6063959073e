"""Fault injection at every write: a scenario (train, resume, a search, the report and deployment tools) runs
in a child process that ends as SIGKILL would at its k-th kill point (`lepton_nb.files`: two per atomic write),
for every k; the folder it leaves is then reopened as a user would and judged.

Children are forked from a forkserver that imported lepton_nb once, so a kill point costs the scenario's own
work, not an interpreter start. The judgement (`reopen`): every run folder loads (an unfinished one with its
history up to its last checkpoint) or is refused with the package's error; a folder with ``last.pt`` resumes;
a study folder opens; no temporary file is left after reopening. "Lost" is a folder with a checkpoint that
neither loads nor resumes, or that loads with fewer epochs than its checkpoint holds.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lepton_nb.files import KILL_ENV, WRITE_LOG_ENV, temp_files
from tests.conftest import tiny_recipe

PRELOAD = ["lepton_nb.cli", "lepton_nb.workflows", "lepton_nb.artifacts", "lepton_nb.search", "lepton_nb.tools",
           "lepton_nb.artifacts.report", "tests.fuzz.kill_points"]


def train_recipe(epochs: int = 3, data: str = "digits", **changes: Any):
    """A short run of each kind of data (images, text, a table) that writes every file a run writes."""
    import lepton_nb as lnb
    from lepton_nb.datasets import reviews_path

    if data == "text":
        return lnb.Recipe.preset("sentiment").updated({"data.path": str(reviews_path()), "train.epochs": epochs,
                                                      "interpret.probes": 2, "interpret.steps": 4, **changes})
    if data == "table":
        return lnb.Recipe.preset("wine").updated({"train.epochs": epochs, "interpret.probes": 2,
                                                 "interpret.steps": 4, **changes})
    return tiny_recipe(**{"data.limit": 240, "train.epochs": epochs, "model.width": 4, "model.hidden": 16,
                          "interpret.probes": 2, "interpret.steps": 4, **changes})


def search_recipe(trials: int = 2):
    return train_recipe(2, **{"interpret.enabled": False, "search.trials": trials, "search.startup_trials": 1,
                              "search.space": {"train.lr": {"log_uniform": [1e-3, 3e-2]}}})


# ---- scenarios: what the child runs (cwd: its workspace) -------------------------------------------------

def _cli(argv: list[str]) -> None:
    from lepton_nb.cli import main

    main(argv)


def scenario_train(ws: Path) -> None:
    _cli(["run", str(ws / "recipe.json"), "--out", str(ws / "runs"), "--quiet"])


def scenario_resume(ws: Path) -> None:
    _cli(["run", str(ws / "recipe.json"), "--resume", str(ws / "source"), "--out", str(ws / "runs"), "--quiet"])


def scenario_search(ws: Path) -> None:
    _cli(["tune", str(ws / "recipe.json"), "--out", str(ws / "studies"), "--quiet"])


def scenario_tools(ws: Path) -> None:
    """What is written into a finished run folder afterwards: report, export, quantize/prune, robustness."""
    import lepton_nb as lnb

    run = lnb.load_run(ws / "source")
    run.report()
    lnb.export(ws / "source", "torchscript", batch_size=4, repeats=1)
    lnb.optimize(ws / "source", prune=0.5, repeats=1)
    lnb.robustness(run, eps=[0.0, 0.05], methods=["fgsm"], n=16, checks=False)


# name -> (what runs, the recipe it starts from, the prepared run folder it starts from)
SCENARIOS: dict[str, tuple[Any, Any, str | None]] = {
    "train": (scenario_train, lambda: train_recipe(3), None),
    "train text": (scenario_train, lambda: train_recipe(3, "text"), None),
    "train table": (scenario_train, lambda: train_recipe(3, "table"), None),
    "resume": (scenario_resume, lambda: train_recipe(4), "stopped"),
    "search": (scenario_search, lambda: search_recipe(3), None),
    "tools": (scenario_tools, lambda: train_recipe(3), "finished"),
}


def prepare(scenario: str, ws: Path, sources: Path | None) -> None:
    """The workspace a scenario starts from: its recipe, and for resume/tools a copy of a prepared run."""
    ws.mkdir(parents=True)
    _, recipe, source = SCENARIOS[scenario]
    recipe().to_file(ws / "recipe.json")
    if source is not None:
        assert sources is not None, f"{scenario} needs make_sources()"
        shutil.copytree(sources / source, ws / "source")


def make_sources(root: Path) -> Path:
    """Run folders the resume and tools scenarios start from: one stopped after 2 of 4 epochs, one finished."""
    import lepton_nb as lnb
    from lepton_nb.training.events import EpochEnd

    class StopAfterTwo:
        def attach(self, trainer):
            trainer.events.subscribe(lambda e: e.epoch == 1 and trainer.control.stop(), EpochEnd)

    stopped = lnb.train(train_recipe(4), out=root / "tmp", progress=False, report=False, callbacks=[StopAfterTwo()])
    shutil.move(stopped.dir, root / "stopped")
    done = lnb.train(train_recipe(3), out=root / "tmp", progress=False, report=False)
    shutil.move(done.dir, root / "finished")
    return root


def _child(scenario: str, ws: str, kill_at: int | None, log: str | None) -> None:
    import torch

    torch.set_num_threads(1)
    os.chdir(ws)
    os.environ.pop(KILL_ENV, None)
    os.environ.pop(WRITE_LOG_ENV, None)
    if kill_at is not None:
        os.environ[KILL_ENV] = str(kill_at)
    if log is not None:
        os.environ[WRITE_LOG_ENV] = log
    SCENARIOS[scenario][0](Path(ws))


_context: Any = None


def context() -> Any:
    global _context
    if _context is None:
        _context = multiprocessing.get_context("forkserver")
        _context.set_forkserver_preload(PRELOAD)
    return _context


def run_child(scenario: str, ws: Path, kill_at: int | None = None, log: Path | None = None) -> int:
    """Run a scenario in a forked child; its exit code (-9: killed at the kill point)."""
    proc = context().Process(target=_child, args=(scenario, str(ws), kill_at, str(log) if log else None))
    proc.start()
    proc.join()
    return proc.exitcode


def count_points(scenario: str, ws: Path) -> list[str]:
    """The kill points of a scenario run to the end (one line each: number, stage, path)."""
    log = ws.parent / f"{ws.name}.points"
    code = run_child(scenario, ws, log=log)
    assert code == 0, f"{scenario} failed without a kill (exit {code})"
    return log.read_text().splitlines()


# ---- judging what a killed child left ---------------------------------------------------------------------

@dataclass
class Verdict:
    loaded: int = 0
    refused: int = 0
    resumed: int = 0
    lost: list[str] = field(default_factory=list)
    tracebacks: list[str] = field(default_factory=list)
    temp_left: list[str] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)


def run_folders(ws: Path) -> list[Path]:
    """Every run folder a scenario may have written, empty ones included (``source`` too: a resume or a tool
    must not damage it)."""
    found = [ws / "source", *ws.glob("runs/*"), *ws.glob("studies/*-search/runs/*")]
    return sorted(p for p in found if p.is_dir())


def reopen(ws: Path, resume: bool = True) -> Verdict:
    """Open every run and study folder in the workspace as a user would; what happened."""
    import lepton_nb as lnb
    from lepton_nb.errors import LeptonError
    from lepton_nb.training.checkpoint import load_checkpoint

    verdict = Verdict()
    for study in sorted(ws.rglob("*-search")):
        try:
            lnb.Study.load(study).trials  # noqa: B018 (reads the database)
        except LeptonError as exc:
            verdict.refused += 1
            verdict.messages.append(str(exc))
        except Exception as exc:  # noqa: BLE001 (anything else is the bug we look for)
            verdict.tracebacks.append(f"Study.load({study.name}): {type(exc).__name__}: {exc}")
    for folder in run_folders(ws):
        last = folder / "checkpoints" / "last.pt"
        try:
            run = lnb.load_run(folder)
        except LeptonError as exc:
            verdict.refused += 1
            verdict.messages.append(str(exc))
            if last.is_file():
                verdict.lost.append(f"{folder.name}: has last.pt but load_run refused it: {exc}")
        except Exception as exc:  # noqa: BLE001
            verdict.tracebacks.append(f"load_run({folder.name}): {type(exc).__name__}: {exc}")
        else:
            verdict.loaded += 1
            if last.is_file() and run.status == "unfinished":
                saved = load_checkpoint(last)["epoch"]
                if len(run.history) < saved:
                    verdict.lost.append(f"{folder.name}: loads {len(run.history)} epochs, last.pt holds {saved}")
        if resume and last.is_file() and not (folder / "metrics.json").is_file():
            try:
                recipe = lnb.Recipe.from_file(folder / "recipe.json")
                resumed = lnb.train(recipe, resume=folder, out=None, progress=False, report=False)
                assert resumed.status == "completed", resumed.message
                verdict.resumed += 1
            except Exception as exc:  # noqa: BLE001
                verdict.lost.append(f"{folder.name}: has last.pt but does not resume: {type(exc).__name__}: {exc}")
    verdict.temp_left = [str(p) for p in temp_files(ws, recursive=True)]  # what reopening left anywhere
    return verdict


def kill_and_reopen(scenario: str, ws: Path, k: int, resume: bool = True) -> tuple[int, Verdict]:
    """Kill the scenario at its k-th point; reopen what it left."""
    code = run_child(scenario, ws, kill_at=k)
    return code, reopen(ws, resume=resume)


def spread(n: int, count: int) -> list[int]:
    """``count`` kill points spread evenly over 1..n (first and last included)."""
    if count >= n:
        return list(range(1, n + 1))
    return sorted({round(1 + i * (n - 1) / (count - 1)) for i in range(count)})


assert signal.SIGKILL == 9
