"""A run folder: the only code that knows its layout, reads it and writes it.

``<out>/<name>-<date>-<time>/`` holds ``recipe.json``, ``data.json`` (data description),
``history.json``, ``metrics.json``, ``checkpoints/best.pt`` and ``last.pt``, ``attributions.npz``
(the probe timeline), ``report.html``, and the ``export/`` and ``optimized/`` folders that tools
write into. JSON and checkpoints are written atomically; checkpoints load with ``weights_only=True``.
"""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import torch

from ..errors import CheckpointError, FieldError, Problem, RecipeError, UsageError, user_path
from ..interpret.probes import load_timeline, save_timeline
from ..recipe import Recipe
from ..recipe.names import name_problem
from ..training.checkpoint import load_checkpoint, remove_stale_temp_files, save_checkpoint
from ..training.history import History
from .description import DataDescription, parse_description

CHECKPOINT_CHOICES = ("auto", "best", "last")


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
        path = self.path / name
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
        tmp.replace(path)
        return path

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
        """Temporary files left by a process killed while it wrote a checkpoint or a JSON file (cleared on resume)."""
        folder = self.path / "checkpoints"
        removed = remove_stale_temp_files(folder) if folder.is_dir() else []
        return removed + (remove_stale_temp_files(self.path, ".*.json.*.tmp") if self.path.is_dir() else [])

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
            raise UsageError("run", str(self.path), "has no recipe.json; allowed: a folder written by lnb.train "
                             "or lepton-nb run")
        try:
            return Recipe.from_file(path)
        except RecipeError as exc:  # name the file: the problems alone do not say which recipe
            raise RecipeError([Problem("recipe file", str(path), "is not a valid recipe:"), *exc.problems]) from None

    def read_description(self) -> DataDescription:
        """``data.json`` checked: class names, normalization, vocabulary and encoder fit each other."""
        return parse_description(self.read_json("data.json", "the data description"), self.path / "data.json")

    def read_history(self) -> History:
        path = self.path / "history.json"
        if not path.is_file():
            return History()
        try:
            return History.load(path)
        except (ValueError, TypeError, KeyError, AttributeError, RecursionError) as exc:
            raise CheckpointError("history.json", str(path), f"cannot be read ({type(exc).__name__}: "
                                  f"{str(exc)[:100]}); allowed: the history lepton_nb wrote, or no file") from None

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
                                  "folder with checkpoints/best.pt or checkpoints/last.pt")
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
