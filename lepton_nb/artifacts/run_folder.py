"""A run folder: the only code that knows its layout, reads it and writes it.

``<out>/<name>-<date>-<time>/`` holds ``recipe.json``, ``data.json`` (data description),
``history.json``, ``metrics.json``, ``checkpoints/best.pt`` and ``last.pt``, ``attributions.npz``
(the probe timeline), ``report.html``, and the ``export/`` and ``optimized/`` folders that tools
write into. Every file is written atomically (`lepton_nb.files.atomic_write`); checkpoints load with
``weights_only=True``.

Crash consistency: the files are written in an order that leaves a usable folder after every write —
``recipe.json`` → ``data.json`` → per epoch ``checkpoints/best.pt`` (when the monitor improved) →
``checkpoints/last.pt`` (the epoch's commit) → ``history.json`` → at the end ``history.json`` →
``attributions.npz`` → ``changes.json`` → ``metrics.json`` (the run finished) → ``report.html``. A folder
killed anywhere in between either loads (without ``metrics.json`` it is *unfinished*: its history is
rebuilt from ``last.pt`` when ``history.json`` lags behind, and it resumes from ``last.pt``) or is refused
with an error saying what is missing and what to do. Opening a folder removes the temporary files of
writers that no longer run (see `remove_stale_temp_files`).
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, FieldError, Problem, RecipeError, UsageError, user_path
from ..files import atomic_write, atomic_write_json
from ..files import remove_stale_temp_files as remove_dead_writers_temp_files
from ..interpret.probes import load_timeline, save_timeline
from ..recipe import Recipe
from ..recipe.names import name_problem
from ..training.checkpoint import load_checkpoint, save_checkpoint
from ..training.history import History
from .description import DataDescription, parse_description

CHECKPOINT_CHOICES = ("auto", "best", "last")
FINISHED = "metrics.json"  # written last but for the report: a folder without it is unfinished
UNFINISHED = "unfinished"  # the status of such a folder


def check_run_name(name: Any) -> str:
    """A run name usable as a folder name on every system: letters, digits, '.', '_', '-'."""
    problem = name_problem(name)
    if problem is not None:
        raise RecipeError([problem])
    return name


class RunFolder:
    """One run's folder. `create` makes a new one atomically; ``RunFolder(path)`` opens an existing one.

    Implements the Trainer's `RunStore` (checkpoints and history).
    """

    def __init__(self, path: str | Path):
        self.path = user_path(path, "run")

    @classmethod
    def create(cls, out: str | Path, name: str) -> RunFolder:
        """``out/<name>-<date>-<time>``, with a numeric suffix when taken.

        The folder is claimed with an atomic ``mkdir`` (no check-then-create race between threads,
        sessions, CLI processes or search workers), and must lie inside ``out``.
        """
        check_run_name(name)
        root = user_path(out, "out")
        root.mkdir(parents=True, exist_ok=True)
        base = f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
        for i in range(1, 10_000):
            path = root / (base if i == 1 else f"{base}-{i}")
            if path.resolve().parent != root.resolve():
                raise UsageError("name", name, "the run folder would lie outside out; allowed: a plain name")
            try:
                path.mkdir()
            except FileExistsError:
                continue
            return cls(path)
        raise UsageError("out", str(root), f"holds 10,000 runs named {base}; allowed: another name or folder")

    @property
    def name(self) -> str:
        return self.path.name

    def __repr__(self) -> str:
        return f"RunFolder({str(self.path)!r})"

    # ---- files --------------------------------------------------------------------------------

    @property
    def report_path(self) -> Path:
        return self.path / "report.html"

    @property
    def timeline_path(self) -> Path:
        return self.path / "attributions.npz"

    @property
    def export_dir(self) -> Path:
        return self.path / "export"

    @property
    def optimized_dir(self) -> Path:
        return self.path / "optimized"

    def checkpoint_path(self, which: str) -> Path:
        return self.path / "checkpoints" / f"{which}.pt"

    # ---- writing ------------------------------------------------------------------------------

    def write_json(self, name: str, data: Any) -> Path:
        """``name`` (e.g. ``metrics.json``) written atomically: a crash never leaves half a file."""
        return atomic_write_json(self.path / name, data, indent=2, default=str)

    def write_recipe(self, recipe: Recipe) -> Path:
        return recipe.to_file(self.path / "recipe.json")

    def write_timeline(self, history: History) -> Path | None:
        """The probes' attribution frames as ``attributions.npz`` (None when there are none)."""
        frames = history.artifacts.get("attributions", [])
        probes = history.meta.get("probes")
        if not frames or not probes:
            return None
        save_timeline(self.timeline_path, frames, probes)
        return self.timeline_path

    def read_timeline(self) -> list[dict[str, Any]]:
        """The attribution frames of ``attributions.npz`` ([] when there are none)."""
        return load_timeline(self.timeline_path) if self.timeline_path.is_file() else []

    # RunStore: what the Trainer writes while it runs
    def save_checkpoint(self, which: str, state: dict[str, Any]) -> None:
        save_checkpoint(self.checkpoint_path(which), state)

    def load_checkpoint(self, which: str, device: torch.device | str = "cpu") -> dict[str, Any] | None:
        path = self.checkpoint_path(which)
        return load_checkpoint(path, device) if path.is_file() else None

    def remove_stale_temp_files(self) -> list[Path]:
        """Temporary files left anywhere in the folder by writers that no longer run (killed mid-write); those of
        a live writer stay. Called whenever a folder is opened: `load_run`, resume."""
        return remove_dead_writers_temp_files(self.path, recursive=True)

    def adopt_best(self, source: RunFolder, epoch: Any) -> Path | None:
        """A resumed run's new folder starts with its source's ``best.pt`` (when that was saved at or before
        ``epoch``, the epoch resumed from): early stopping restores it, and ``best`` loads, as in the source."""
        best = source.checkpoint_path("best")
        if source.path.resolve() == self.path.resolve() or not best.is_file():
            return None
        try:
            saved = load_checkpoint(best).get("epoch")
        except CheckpointError:
            return None
        if not isinstance(saved, int) or not isinstance(epoch, int) or saved > epoch:
            return None
        return atomic_write(self.checkpoint_path("best"), best.read_bytes())

    def save_history(self, history: History) -> None:
        self.path.mkdir(parents=True, exist_ok=True)
        history.save(self.path / "history.json")

    # ---- reading ------------------------------------------------------------------------------

    def read_json(self, name: str, what: str) -> Any:
        path = self.path / name
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except OSError:
            raise UsageError("run", str(self.path), f"has no {name} ({what}); allowed: a run folder written "
                             "by lnb.train or lepton-nb run") from None
        except ValueError as exc:
            raise UsageError("run", str(path), f"is not valid JSON ({exc})") from None

    def read_optional_json(self, name: str, field: str, error: type[FieldError]) -> Any:
        """``name``'s JSON, or None when the folder has no such file; a damaged one is ``error`` naming ``field``."""
        path = self.path / name
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError, RecursionError) as exc:
            raise error(field, str(path), f"cannot be read ({str(exc)[:100]}); allowed: a run folder written by "
                        "lepton_nb") from None

    def read_recipe(self) -> Recipe:
        path = self.path / "recipe.json"
        if not path.is_file():
            raise UsageError("run", str(self.path), "has no recipe.json (not a run folder, or its process ended "
                             "before writing anything: nothing was trained); allowed: a folder written by lnb.train "
                             "or lepton-nb run — delete this one and train again")
        try:
            return Recipe.from_file(path)
        except RecipeError as exc:  # name the file: the problems alone do not say which recipe
            raise RecipeError([Problem("recipe file", str(path), "is not a valid recipe:"), *exc.problems]) from None

    def read_description(self) -> DataDescription:
        """``data.json`` checked: class names, normalization, vocabulary and encoder fit each other."""
        if (self.path / "recipe.json").is_file() and not (self.path / "data.json").is_file():
            raise UsageError("run", str(self.path), "has recipe.json but no data.json: its process ended before the "
                             "data was prepared, so nothing was trained; allowed: train it again with lepton-nb run "
                             f"{self.path / 'recipe.json'} (then delete this folder)")
        return parse_description(self.read_json("data.json", "the data description"), self.path / "data.json")

    def read_history(self) -> History:
        """``history.json``; in an unfinished folder, the history ``last.pt`` holds when that one has more epochs
        (the process ended between the checkpoint and the history)."""
        path = self.path / "history.json"
        history = History()
        if path.is_file():
            try:
                history = History.load(path)
            except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
                raise CheckpointError("history.json", str(path), f"cannot be read ({type(exc).__name__}: "
                                      f"{str(exc)[:100]}); allowed: the history lepton_nb wrote, or no file") from None
        if not self.finished():
            saved = self.checkpoint_history()
            if saved is not None and len(saved) > len(history):
                return saved
        return history

    def checkpoint_history(self) -> History | None:
        """The history ``last.pt`` holds, cut at the epochs it completed (None without a readable one)."""
        path = self.checkpoint_path("last")
        if not path.is_file():
            return None
        try:
            state = load_checkpoint(path)
            history = History.from_dict(state["history"])
            history.truncate_epochs(int(state["epoch"]))
        except (CheckpointError, ValueError, TypeError, KeyError, AttributeError, RecursionError):
            return None
        return history

    def finished(self) -> bool:
        """Whether the run got to the end (``metrics.json`` is written after its training and test evaluation)."""
        return (self.path / FINISHED).is_file()

    def unfinished_message(self, history: History) -> str:
        """What a folder without ``metrics.json`` is, and how to continue it."""
        total = history.meta.get("recipe", {}).get("train", {}).get("epochs") if isinstance(
            history.meta.get("recipe"), dict) else None
        done = f"after epoch {len(history)}" + (f" of {total}" if isinstance(total, int) else "")
        return (f"unfinished: its process ended {done} without finishing (killed, crashed, or still running); "
                f"continue it with lepton-nb run {self.path / 'recipe.json'} --resume {self.path}")

    def read_metrics(self) -> dict[str, Any]:
        """``metrics.json`` (empty when absent); a damaged one is refused."""
        if not (self.path / "metrics.json").is_file():
            return {}
        metrics = self.read_json("metrics.json", "the final status")
        test = metrics.get("test") if isinstance(metrics, dict) else None
        if not isinstance(metrics, dict) or not (test is None or (isinstance(test, dict) and isinstance(
                test.get("loss"), (int, float)) and isinstance(test.get("metrics", {}), dict))):
            raise CheckpointError("metrics.json", str(self.path / "metrics.json"), "is not the object lepton_nb "
                                  "writes (status, message, seconds, test: {loss, metrics}); allowed: that file, "
                                  "or no file")
        return metrics

    def read_robustness(self) -> dict[str, Any] | None:
        """The newest robustness curve written by ``lnb.robustness`` (None when absent or unreadable: it is
        optional, and a damaged copy must not keep the run from loading)."""
        if not (self.path / "robustness.json").is_file():
            return None
        try:
            data = self.read_json("robustness.json", "a robustness curve")
        except UsageError:
            return None
        return data if isinstance(data, dict) else None

    def status(self) -> str:
        try:
            return str(json.loads((self.path / "metrics.json").read_text(encoding="utf-8")).get("status", ""))
        except (OSError, ValueError, AttributeError, RecursionError):
            return ""

    def checkpoint(self, which: str = "auto", field: str = "checkpoint") -> Path:
        """The checkpoint file ``which`` stands for.

        ``auto`` — the weights the run ended with and its test metrics were measured on (``best``
        when it early-stopped or diverged, ``last`` otherwise); ``best``; ``last``; or a file path,
        absolute or relative to the run folder (e.g. ``optimized/pruned-50.pt``).
        """
        if which not in CHECKPOINT_CHOICES:
            candidate = user_path(which, "checkpoint", CheckpointError)
            candidate = candidate if candidate.is_absolute() else self.path / candidate
            if not candidate.is_file():
                raise CheckpointError("checkpoint", which, f"no such file in {str(self.path)!r}; allowed: "
                                      f"{', '.join(CHECKPOINT_CHOICES)} or a checkpoint file")
            return candidate
        best, last = self.checkpoint_path("best"), self.checkpoint_path("last")
        if not best.is_file() and not last.is_file():
            raise CheckpointError(field, str(self.path), "this run folder has no checkpoints (it was trained with "
                                  "train.checkpoint false, or stopped before its first epoch ended); allowed: a run "
                                  "folder with checkpoints/best.pt or checkpoints/last.pt — or train this one again: "
                                  f"lepton-nb run {self.path / 'recipe.json'}")
        if which == "auto":
            prefer = (best, last) if self.status() in ("early_stopped", "diverged") else (last, best)
            return next(p for p in prefer if p.is_file())
        chosen = best if which == "best" else last
        if not chosen.is_file():
            raise CheckpointError("checkpoint", which, f"{chosen} does not exist; allowed: "
                                  f"{'last' if which == 'best' else 'best'} or auto")
        return chosen


def checkpoint_file(source: str | Path, which: str = "auto", field: str = "checkpoint") -> Path:
    """The checkpoint a run folder (or a checkpoint path) stands for (see `RunFolder.checkpoint`)."""
    path = user_path(source, field, CheckpointError)
    if path.is_file():
        return path
    if not path.is_dir():
        raise CheckpointError(field, str(path), "no such run folder or checkpoint file; allowed: a run folder "
                              "written by lepton_nb (with checkpoints/) or a .pt checkpoint")
    return RunFolder(path).checkpoint(which, field)


def folder_of(path: str | Path) -> RunFolder:
    """The run folder a run folder or one of its checkpoint files belongs to."""
    p = user_path(path, "run")
    if p.is_dir():
        return RunFolder(p)
    return RunFolder(p.parent.parent if p.parent.name == "checkpoints" else p.parent)
