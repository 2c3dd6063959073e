"""The study folder: where a search keeps its database, its recipe, its trials' run folders and its report.

``<out>/<name>-search/`` holds ``study.db`` (SQLite, unless ``search.storage`` names another database),
``study.json`` (storage URL and study name: what a resume or another worker needs), ``recipe.json`` (the
search recipe), ``best_recipe.json``, ``trials.csv``, ``report.html`` and ``runs/`` with one ordinary run
folder per trial (written by `RunFolder`, as every run folder is).
"""

from __future__ import annotations

import importlib.util
import json
import re
import warnings
from pathlib import Path
from typing import Any

import sqlalchemy
from optuna.exceptions import ExperimentalWarning
from optuna.storages import RDBStorage

from ..errors import UsageError
from ..files import atomic_write, remove_stale_temp_files
from ..recipe import Recipe
from .liveness import grace_s, heartbeat_s

SERVER_URL = "postgresql+psycopg://user@host:5432/db"  # the form that works with the postgres extra (psycopg 3)
ALLOWED_URLS = (f"allowed: '' (SQLite in the study folder), sqlite:///path/study.db, or a database server that "
                f"several machines share, e.g. {SERVER_URL} (pip install 'lepton_nb[postgres]')")

SQLITE_TIMEOUT_S = 120  # several workers share one SQLite file: a writer waits this long for the lock


class StudyFolder:
    """One study's folder; ``StudyFolder.for_recipe(out, recipe)`` is where that recipe's search lives."""

    def __init__(self, path: str | Path):
        self.path = Path(path).expanduser()

    @classmethod
    def for_recipe(cls, out: str | Path, recipe: Recipe) -> StudyFolder:
        return cls(Path(out).expanduser() / f"{recipe.name}-search")

    def __repr__(self) -> str:
        return f"StudyFolder({str(self.path)!r})"

    @property
    def runs_dir(self) -> Path:
        return self.path / "runs"

    @property
    def report_path(self) -> Path:
        return self.path / "report.html"

    @property
    def default_storage(self) -> str:
        return f"sqlite:///{(self.path / 'study.db').resolve()}"

    def exists(self) -> bool:
        return (self.path / "study.json").is_file()

    def remove_stale_temp_files(self) -> list[Path]:
        """Temporary files that dead writers left in the study folder and its trials' run folders (a live
        worker's stay); called whenever the study is opened."""
        return remove_stale_temp_files(self.path, recursive=True)

    def write_text(self, name: str, text: str) -> Path:
        """Written atomically (a crash never leaves half a file; workers may write at the same time)."""
        return atomic_write(self.path / name, text)

    def write_json(self, name: str, data: Any) -> Path:
        return self.write_text(name, json.dumps(data, indent=2, default=str) + "\n")

    def read_info(self) -> dict[str, Any]:
        """``study.json``: storage URL and study name."""
        try:
            info = json.loads((self.path / "study.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            raise UsageError("study", str(self.path), "has no readable study.json (not a study folder, or its search "
                             "was killed while it created the study); allowed: a study folder written by lnb.tune or "
                             "lepton-nb tune — run the same lepton-nb tune command again to start it") from None
        if not isinstance(info, dict) or not {"storage", "study_name"} <= set(info):
            raise UsageError("study", str(self.path), "study.json lacks storage/study_name; allowed: a study folder "
                             "written by lnb.tune or lepton-nb tune")
        return info

    def read_recipe(self) -> Recipe:
        return Recipe.from_file(self.path / "recipe.json")


def open_storage(url: str, heartbeat: int | None = None, grace: int | None = None) -> RDBStorage:
    """An Optuna RDB storage with a heartbeat (dead processes' trials get failed) and SQLite lock waits."""
    heartbeat, grace = heartbeat or heartbeat_s(), grace or grace_s()
    _check_driver(url)
    engine: dict[str, Any] = {"connect_args": {"timeout": SQLITE_TIMEOUT_S}} if url.startswith("sqlite") else {}
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ExperimentalWarning)  # the heartbeat options, stable since Optuna 2.9
            storage = RDBStorage(url, engine_kwargs=engine, heartbeat_interval=heartbeat, grace_period=grace)
    except Exception as exc:  # bad URL, missing driver, unreachable server: all one answer
        raise UsageError("search.storage", hide_password(url), f"cannot be opened ({type(exc).__name__}: "
                         f"{hide_password(str(exc))[:200]}); {ALLOWED_URLS}") from None
    if url.startswith("sqlite"):
        sqlalchemy.event.listen(storage.engine, "connect", _sqlite_wal)
        storage.engine.dispose()  # connections opened from now on use the pragmas
    return storage


def _check_driver(url: str) -> None:
    """A PostgreSQL URL whose driver is not installed: say which package (or URL form) works."""
    scheme = url.split("://", 1)[0].lower() if "://" in url else ""
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg", "postgresql+psycopg2"):
        return
    if scheme in ("postgresql+psycopg",) and importlib.util.find_spec("psycopg") is None:
        raise UsageError("search.storage", hide_password(url), "needs the psycopg driver, which is not installed; "
                         "allowed: pip install 'lepton_nb[postgres]' (psycopg 3), then the same URL")
    if scheme in ("postgresql", "postgres", "postgresql+psycopg2") and importlib.util.find_spec("psycopg2") is None:
        rest = url.split("://", 1)[1]
        raise UsageError("search.storage", hide_password(url), "a plain postgresql:// URL means the psycopg2 driver "
                         "to SQLAlchemy, and it is not installed; allowed: "
                         f"{hide_password('postgresql+psycopg://' + rest)} with pip install 'lepton_nb[postgres]' "
                         "(psycopg 3)")


def hide_password(text: str) -> str:
    """A URL (or a message quoting one) with its password replaced by ***."""
    return re.sub(r"(://[^:/@\s]+:)[^@\s]+@", r"\1***@", text)


def _sqlite_wal(connection: Any, record: Any) -> None:
    """Write-ahead log, synced at checkpoints: a trial's dozen small writes cost ~2.5x less (measured 410 → 160 ms
    per trial on a loaded machine), and readers (the studio's live table) do not block the writing workers.
    Safe for processes on one machine; a SQLite file on a network file system needs another storage URL."""
    cursor = connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
