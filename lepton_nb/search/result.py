"""`Study`: what a search leaves — best recipe, trials table, importances, figures and the HTML report.

Everything is read from the study's database each time, so a `Study` also shows a search still running
in other processes (running trials with their current epoch and objective value included).
"""

from __future__ import annotations

import warnings
from datetime import datetime
from pathlib import Path
from typing import Any

import optuna
import pandas as pd
from optuna.trial import FrozenTrial, TrialState

from ..errors import UsageError
from ..files import atomic_write
from ..recipe import Recipe
from .folder import StudyFolder, hide_password, open_storage
from .liveness import fail_stale, stale_message

IMPORTANCE_METHOD = "fANOVA"  # named wherever importances are shown (Optuna's default evaluator is PED-ANOVA)


def trial_state(t: FrozenTrial) -> str:
    """The trial's state in the words the studio uses: Optuna's, except a trial the user stopped: "stopped"
    (Optuna records it as failed; the Runs tab calls its run stopped)."""
    if t.state == TrialState.FAIL and t.user_attrs.get("stopped"):
        return "stopped"
    return t.state.name.lower()


def trial_row(t: FrozenTrial, now: datetime | None = None) -> dict[str, Any]:
    """One trial as a table row: number, state, value, epoch reached, last reported value, values, duration."""
    steps = t.intermediate_values
    last_step = max(steps) if steps else None
    end = t.datetime_complete or now or datetime.now()
    message = t.user_attrs.get("message", "")
    if t.state == TrialState.FAIL and not message:
        message = stale_message()
    return {"trial": t.number, "state": trial_state(t), "value": t.value,
            "epoch": None if last_step is None else last_step + 1,
            "last": None if last_step is None else steps[last_step], **t.params,
            "duration_s": (end - t.datetime_start).total_seconds() if t.datetime_start else None,
            "run_folder": t.user_attrs.get("run_folder", ""), "message": message}


def trials_frame(trials: list[FrozenTrial], params: list[str]) -> pd.DataFrame:
    """Every trial (running ones too) as a DataFrame with one column per searched field; call `fail_stale` on
    the study first, so that no dead process's trial reads as running."""
    now = datetime.now()
    columns = ["trial", "state", "value", "epoch", "last", *params, "duration_s", "run_folder", "message"]
    return pd.DataFrame([trial_row(t, now) for t in trials], columns=columns)


class Study:
    """A search's results, read live from its Optuna study. ``Study.load(folder)`` opens a study folder.

    Every read first fails the trials of dead processes (no heartbeat for the grace period), so a trial is
    shown running only while its process lives.
    """

    def __init__(self, study: optuna.Study, folder: StudyFolder, recipe: Recipe):
        self.optuna = study
        self.folder = folder
        self.recipe = recipe

    @classmethod
    def load(cls, folder: str | Path) -> Study:
        """Open a study folder written by ``lnb.tune`` / ``lepton-nb tune`` (finished or still running)."""
        sf = StudyFolder(folder)
        sf.remove_stale_temp_files()
        info = sf.read_info()
        study = optuna.load_study(study_name=info["study_name"], storage=open_storage(info["storage"]))
        fail_stale(study)
        return cls(study, sf, sf.read_recipe())

    @classmethod
    def find(cls, out: str | Path, recipe: Recipe) -> Study:
        """The recipe's study as it stands, to watch it while other processes or machines run it: in
        ``search.storage`` when the recipe names one (found by the recipe's name), else in its study folder."""
        sf = StudyFolder.for_recipe(out, recipe)
        if not recipe.search.storage:
            if not sf.exists():
                raise UsageError("search.storage", "", f"no study of {recipe.name!r} in {sf.path}; allowed: a recipe "
                                 "whose search.storage names the database its study lives in, or a study folder "
                                 "written by lnb.tune / lepton-nb tune")
            return cls.load(sf.path)
        storage = open_storage(recipe.search.storage)
        try:
            study = optuna.load_study(study_name=recipe.name, storage=storage)
        except KeyError:
            raise UsageError("name", recipe.name, f"no study of that name in {hide_password(recipe.search.storage)}; "
                             "allowed: the name of a study there (start it with lepton-nb tune recipe.json "
                             "--storage URL on any machine)") from None
        fail_stale(study)
        return cls(study, sf, recipe)

    def _trials(self) -> list[FrozenTrial]:
        fail_stale(self.optuna)
        return self.optuna.get_trials(deepcopy=False)

    def __repr__(self) -> str:
        return f"Study({self.name!r}, {self.counts()}, best={self.best_value})"

    @property
    def name(self) -> str:
        return self.optuna.study_name

    @property
    def objective(self) -> str:
        return self.recipe.search.objective

    @property
    def direction(self) -> str:
        return self.optuna.direction.name.lower()

    @property
    def params(self) -> list[str]:
        return list(self.recipe.search.space)

    def log_params(self) -> set[str]:
        return {k for k, d in self.recipe.search.space.items() if next(iter(d)).startswith("log")}

    def counts(self) -> dict[str, int]:
        """Trials per state: complete, pruned, fail, stopped (by the user), running, waiting."""
        out: dict[str, int] = {}
        for t in self._trials():
            out[trial_state(t)] = out.get(trial_state(t), 0) + 1
        return out

    @property
    def best_trial(self) -> FrozenTrial | None:
        try:
            return self.optuna.best_trial
        except ValueError:  # no completed trial yet
            return None

    @property
    def best_value(self) -> float | None:
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_params(self) -> dict[str, Any]:
        best = self.best_trial
        return {} if best is None else dict(best.params)

    @property
    def best_recipe(self) -> Recipe | None:
        """The search recipe with the best trial's values, named ``<name>-best`` (None before any trial completes)."""
        best = self.best_trial
        if best is None:
            return None
        return self.recipe.updated({**best.params, "name": f"{self.recipe.name}-best"})

    @property
    def best_run(self) -> Path | None:
        best = self.best_trial
        folder = best.user_attrs.get("run_folder") if best is not None else None
        return Path(folder) if folder else None

    @property
    def trials(self) -> pd.DataFrame:
        """Every trial: state, value, epoch reached, last reported value, its values, duration, run folder, message."""
        return trials_frame(self._trials(), self.params)

    def importances(self) -> dict[str, float]:
        """How much each field mattered: Optuna's fANOVA evaluator (``IMPORTANCE_METHOD``; passed explicitly,
        since Optuna's default is PED-ANOVA), seeded with ``search.seed``; {} with fewer than two completed
        trials."""
        complete = self.optuna.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
        if len(complete) < 2 or len({repr(t.params) for t in complete}) < 2:
            return {}
        evaluator = optuna.importance.FanovaImportanceEvaluator(seed=self.recipe.search.seed)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return dict(optuna.importance.get_param_importances(self.optuna, evaluator=evaluator))
        except (RuntimeError, ValueError):  # e.g. every completed trial has the same value
            return {}

    # ---- figures: each takes an axis or a figure, never calls show() ------------------------------

    def plot_history(self, ax: Any) -> None:
        """Each trial's value and the best so far, in trial order."""
        from .plots import plot_history

        plot_history(ax, self.trials, self.objective, self.direction)

    def plot_parallel(self, ax: Any) -> None:
        """Parallel coordinates of the searched values, coloured by the objective."""
        from .plots import plot_parallel

        plot_parallel(ax, self.trials, self.params, self.objective, self.log_params())

    def plot_slices(self, fig: Any) -> None:
        """The objective against each searched field (one panel per field)."""
        from .plots import plot_slices

        plot_slices(fig, self.trials, self.params, self.objective, self.log_params())

    def plot_importances(self, ax: Any) -> None:
        from .plots import plot_importances

        plot_importances(ax, self.importances(), IMPORTANCE_METHOD)

    # ---- files ---------------------------------------------------------------------------------------

    def report(self, path: str | Path | None = None) -> Path:
        """A self-contained HTML report of the study (default: ``report.html`` in the study folder)."""
        from .report import study_report_html

        target = Path(path) if path is not None else self.folder.report_path
        html = study_report_html(self)
        if path is None:
            return self.folder.write_text("report.html", html)
        return atomic_write(target, html)

    def save(self, report: bool = True) -> None:
        """``best_recipe.json``, ``trials.csv`` and (when ``report``) ``report.html`` in the study folder."""
        best = self.best_recipe
        if best is not None:
            self.folder.write_text("best_recipe.json", best.to_json() + "\n")
        self.folder.write_text("trials.csv", self.trials.to_csv(index=False))
        if report:
            self.report()

    def table(self) -> str:
        """A few lines for a terminal: counts, best value, best values."""
        counts = ", ".join(f"{n} {state}" for state, n in sorted(self.counts().items()))
        lines = [f"study {self.name}: {counts or 'no trials'}"]
        best = self.best_trial
        if best is not None:
            lines.append(f"best {self.objective}: {best.value:.4f} (trial {best.number})")
            lines += [f"  {k} = {v:.4g}" if isinstance(v, float) else f"  {k} = {v}" for k, v in best.params.items()]
        lines.append(f"study folder: {self.folder.path}")
        return "\n".join(lines)
