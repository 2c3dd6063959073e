"""A search as a job of the studio's session: it runs where the studio trains (the worker process).

`search_job` is handed to ``session.call``: in a `WorkerSession` every trial then trains in the worker
process at bare-loop speed and cannot disturb the kernel's random state. The kernel learns the study's
folder as soon as it is open, with the number of trials it held then (``("study", (folder, trials))``), so
it can read the running trials from the database and say how many this search added, and gets each trial's
run (``("run", run)``, data and model released) for its Runs tab.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..data import DataBundle
from ..recipe import Recipe
from ..training.control import Control
from .engine import prepare, tune
from .folder import StudyFolder


def search_job(recipe: Recipe, *, control: Control | None, data: DataBundle | None,
               on_progress: Callable[..., None] | None, out: str, resume: bool) -> str:
    """Run the recipe's search (`tune`) and return its study folder; progress: the folder, then every run."""
    folder = StudyFolder.for_recipe(out, prepare(recipe))
    report = on_progress if on_progress is not None else (lambda *args: None)

    def on_run(run: Any) -> None:
        run.release()  # a search makes many runs: the kernel keeps their recipes, curves and metrics
        report("run", run)

    tune(recipe, out, resume=resume, progress=False, control=control, data=data, on_run=on_run,
         on_study=lambda study: report("study", (str(folder.path), len(study.get_trials(deepcopy=False)))))
    return str(folder.path)
