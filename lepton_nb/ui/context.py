"""What a panel may touch of the studio: the recipe form, the loaded data, the runs, and a job lock.

Panels receive this narrow context, never the whole `Studio`, so they cannot reach into each other
and the studio module only composes them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol

from ..artifacts import Run
from ..data import DataBundle
from ..recipe import Recipe
from ..workflows import Session
from .forms import RecipeForm


class StudioContext(Protocol):
    form: RecipeForm
    data: DataBundle | None
    runs: list[Run]
    job_message: str
    out: str | Path | None  # where runs (and studies) are written; None: nowhere
    session: Session  # trains runs, and runs the LR finder and cross-validation, where runs train

    @property
    def recipe(self) -> Recipe:
        """The recipe the panels show."""
        ...

    def load_data(self) -> None:
        """Reload the data the panels describe (in the background)."""
        ...

    def load_recipe(self, recipe: Recipe) -> None:
        """Put a recipe into every panel."""
        ...

    def data_for(self, recipe: Recipe) -> DataBundle | None:
        """The loaded data rebound to ``recipe`` (None when it does not match)."""
        ...

    def start(self, force: bool = False, stage: str = "train") -> bool:
        """Start training the panels' recipe; False (with the reason in ``job_message``) when refused.
        ``force``: the user asked for it (a click), also in a dashboard; ``stage="pretrain"``: pretrain its
        text encoder instead."""
        ...

    def claim_job(self, name: str) -> bool:
        """Take the one-job-at-a-time lock (training, LR finder, cross-validation, search); False when busy."""
        ...

    def release_job(self) -> None: ...

    def show_job(self, state: str, message: str, progress: dict | None = None) -> None:
        """Say in the monitor what the job that holds the lock does (state, one line, progress fraction)."""
        ...

    def add_run(self, run: Run) -> None:
        """List a run made by a panel (a search trial) in the Runs tab."""
        ...

    def selected_cell(self) -> list[int]:
        """The confusion-matrix cell selected in the Evaluation tab ([true, predicted], or [])."""
        ...
