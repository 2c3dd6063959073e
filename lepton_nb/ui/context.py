"""What a panel may touch of the studio: the recipe form, the loaded data, the session, the runs, a job lock.

Panels receive this narrow context, never the `Studio`, so they cannot reach into each other and the studio
module only composes them. What a panel does that others must hear of (a run added, a recipe loaded) goes
through the context, which tells the studio (``notify``), which tells every panel.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..artifacts import Run
from ..data import DataBundle
from ..recipe import ARCHS_FOR_KIND, SOURCE_KIND, Recipe
from ..workflows import Session, as_recipe
from .forms import RecipeForm
from .loading import DataLoader


class StudioContext:
    """The studio's shared state as panels see it."""

    def __init__(self, form: RecipeForm, session: Session, out: str | Path | None):
        self.form = form
        self.session = session  # trains runs, and runs the LR finder, cross-validation and searches where runs train
        self.out = out  # where runs (and studies) are written; None: nowhere
        self.loader = DataLoader()
        self.runs: list[Run] = []
        self.job_message = ""
        self.selected: list[int] = []  # the confusion-matrix cell selected in the Evaluation tab ([true, predicted])
        self.shown: object = None  # the panel whose tab is selected
        self.view_error: str | None = None  # why the live view of the last run failed (the run went on), if it did
        self.lock = threading.RLock()
        self._job: str | None = None
        # set by the studio: start the panels' recipe (``force``: a click; ``stage``: train or pretrain), and
        # what every panel hears of a change (``notify("runs")`` when a run was added)
        self.start: Callable[..., bool] = lambda force=False, stage="train": False
        self.notify: Callable[[str], None] = lambda what: None
        # and what the job that holds the lock does, said in the monitor (state, one line, progress fraction)
        self.show_job: Callable[..., None] = lambda state, message, progress=None: None
        form.controls()["data.source"].widget.observe(self._source_changed, names="value")

    def _source_changed(self, change: Any) -> None:
        """A new data source gets an architecture of its kind (before the form validates the recipe)."""
        arch = self.form.controls()["model.arch"]
        fitting = ARCHS_FOR_KIND[SOURCE_KIND.get(change["new"], "image")]
        if arch.get() not in fitting:
            arch.set(fitting[0])

    @property
    def recipe(self) -> Recipe:
        """The recipe the panels show (the last valid one while a field is invalid)."""
        return self.form.recipe

    @property
    def data(self) -> DataBundle | None:
        """The data the data section describes, once loaded."""
        return self.loader.data

    def load_data(self) -> None:
        """Reload the data the panels describe (in the background)."""
        self.loader.load(self.form.values())

    def data_for(self, recipe: Recipe) -> DataBundle | None:
        """The loaded data rebound to ``recipe`` (None when it does not match; see `DataLoader.data_for`)."""
        return self.loader.data_for(recipe)

    def load_recipe(self, recipe: Recipe | dict | str | Path) -> None:
        """Put a recipe into every panel (from a run, a file or a dict)."""
        self.form.set_recipe(as_recipe(recipe))

    def selected_cell(self) -> list[int]:
        """The confusion-matrix cell selected in the Evaluation tab ([true, predicted], or [])."""
        return list(self.selected)

    @property
    def job(self) -> str | None:
        """The background job running besides training (the LR finder, cross-validation...), if any."""
        return self._job

    def claim_job(self, name: str) -> bool:
        """One background job (training, LR finder, cross-validation, search) at a time: all need the CPU."""
        with self.lock:
            if self.session.busy:
                self.job_message = f"a training run is {self.session.state}; stop it or wait for it first"
                return False
            if self._job is not None:
                self.job_message = f"{self._job} is running; stop it or wait for it first"
                return False
            self._job = name
            return True

    def release_job(self) -> None:
        with self.lock:
            self._job = None

    def add_run(self, run: Run) -> None:
        """List a run made by a panel (a search trial) in the Runs tab."""
        with self.lock:
            self.runs.append(run)
        self.notify("runs")
