"""Thread-safe store of every metric of a run, with incremental and decimated reads for views."""

from __future__ import annotations

import json
import math
import threading
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from ..files import atomic_write

BATCH_LOSS = "batch_loss"  # the loss of each training batch, logged at its step (the epoch's mean is train_loss)
# series names older runs used: their history.json reads as if written today, and reads by the old name still work
RENAMED = {"train/loss": BATCH_LOSS}


class History:
    """Named series of (x, y) points in compact arrays, plus per-epoch records and artifacts.

    The training thread appends; views read from other threads. Every read returns copies,
    so a reader never sees a half-written point.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._x: dict[str, array] = {}
        self._y: dict[str, array] = {}
        self.epochs: list[dict[str, float]] = []
        self.artifacts: dict[str, list[Any]] = {}
        self.meta: dict[str, Any] = {}

    def __getstate__(self) -> dict[str, Any]:
        """A copy for another process (a search trial's run sent from the training process): all but the lock."""
        with self._lock:
            state = dict(self.__dict__)
        del state["_lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._lock = threading.Lock()

    # ---- writing -------------------------------------------------------------------------

    def log(self, name: str, x: float, y: float) -> None:
        with self._lock:
            if name not in self._x:
                self._x[name], self._y[name] = array("d"), array("d")
            self._x[name].append(x)
            self._y[name].append(y)

    def log_many(self, x: float, values: dict[str, float]) -> None:
        with self._lock:
            for name, y in values.items():
                if name not in self._x:
                    self._x[name], self._y[name] = array("d"), array("d")
                self._x[name].append(x)
                self._y[name].append(y)

    def log_epoch(self, record: dict[str, float]) -> None:
        with self._lock:
            self.epochs.append(dict(record))

    def add_artifact(self, name: str, item: Any) -> None:
        """Non-scalar results (e.g. attribution snapshots), kept in order."""
        with self._lock:
            self.artifacts.setdefault(name, []).append(item)

    def truncate_epochs(self, epochs_done: int) -> None:
        """Forget everything logged after ``epochs_done`` complete epochs (used on resume).

        Series are indexed by global step; each epoch record holds the step it ended at.
        """
        with self._lock:
            self.epochs = [e for e in self.epochs if e["epoch"] < epochs_done]
            last_step = self.epochs[-1]["step"] if self.epochs else 0
            for name in self._x:
                n = sum(1 for v in self._x[name] if v <= last_step)
                del self._x[name][n:], self._y[name][n:]

    def restore(self, data: dict[str, Any], epochs_done: int) -> None:
        """Replace the contents with a saved history cut at ``epochs_done`` (resuming a checkpoint)."""
        other = History.from_dict(data)
        other.truncate_epochs(epochs_done)
        with self._lock:
            self._x, self._y, self.epochs = other._x, other._y, other.epochs
            self.artifacts, self.meta = other.artifacts, other.meta

    # ---- reading -------------------------------------------------------------------------

    def names(self) -> list[str]:
        with self._lock:
            return list(self._x)

    def __len__(self) -> int:
        with self._lock:
            return len(self.epochs)

    def length(self, name: str) -> int:
        name = RENAMED.get(name, name)
        with self._lock:
            return len(self._x.get(name, ()))

    def series(self, name: str) -> tuple[np.ndarray, np.ndarray]:
        """All points of a series as float64 arrays (empty when unknown)."""
        return self.since(name, 0)

    def since(self, name: str, start: int) -> tuple[np.ndarray, np.ndarray]:
        """Points from index ``start`` on: what a live view has not sent yet."""
        name = RENAMED.get(name, name)
        with self._lock:
            xs, ys = self._x.get(name), self._y.get(name)
            if xs is None:
                return np.empty(0), np.empty(0)
            return (np.frombuffer(xs[start:], dtype=np.float64).copy(),
                    np.frombuffer(ys[start:], dtype=np.float64).copy())

    def last(self, name: str, default: float = math.nan) -> float:
        name = RENAMED.get(name, name)
        with self._lock:
            ys = self._y.get(name)
            return ys[-1] if ys else default

    def epoch_seconds(self) -> float:
        """Typical training seconds per epoch: the median over epochs after the first, which pays one-time costs
        (the process's first passes, lazy initialization) that a comparison of two runs must not count; the
        first epoch's time when it is the only one, NaN when there is none."""
        with self._lock:
            seconds = [float(e["seconds"]) for e in self.epochs if "seconds" in e]
        if not seconds:
            return math.nan
        return float(np.median(seconds[1:] if len(seconds) > 1 else seconds))

    def decimated(self, name: str, max_points: int = 1000) -> tuple[np.ndarray, np.ndarray]:
        """At most ~``max_points`` points: per bucket the min and max, so spikes stay visible."""
        x, y = self.series(name)
        return decimate(x, y, max_points)

    # ---- persistence ---------------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "series": {k: {"x": list(self._x[k]), "y": list(self._y[k])} for k in self._x},
                "epochs": [dict(e) for e in self.epochs],
                "meta": dict(self.meta),
            }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> History:
        h = cls()
        for name, s in data.get("series", {}).items():
            name = RENAMED.get(name, name)
            h._x[name] = array("d", s["x"])
            h._y[name] = array("d", (math.nan if v is None else v for v in s["y"]))
        h.epochs = [dict(e) for e in data.get("epochs", [])]
        h.meta = dict(data.get("meta", {}))
        return h

    def save(self, path: str | Path) -> Path:
        """Write JSON atomically (a crash mid-write leaves the previous file intact)."""
        return atomic_write(path, json.dumps(_finite(self.to_dict())))

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls.from_dict(json.loads(Path(path).read_text(encoding="utf-8")))


def _finite(obj: Any) -> Any:
    """JSON has no NaN/inf: store them as null (a diverged loss is still worth keeping)."""
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if isinstance(obj, dict):
        return {k: _finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [_finite(v) for v in obj]
    return obj


def decimate(x: np.ndarray, y: np.ndarray, max_points: int) -> tuple[np.ndarray, np.ndarray]:
    """Min/max decimation into ``max_points // 2`` buckets (keeps extremes, unlike striding)."""
    n = len(x)
    if n <= max_points or max_points < 4:
        return x, y
    buckets = max_points // 2
    edges = np.linspace(0, n, buckets + 1).astype(int)
    out_x, out_y = [], []
    for a, b in zip(edges[:-1], edges[1:]):
        seg = y[a:b]
        if len(seg) == 0:
            continue
        finite = np.where(np.isfinite(seg), seg, np.nan)
        if np.all(np.isnan(finite)):
            out_x.append(x[a])
            out_y.append(seg[0])
            continue
        i_min, i_max = a + int(np.nanargmin(finite)), a + int(np.nanargmax(finite))
        for i in sorted({i_min, i_max}):
            out_x.append(x[i])
            out_y.append(y[i])
    return np.asarray(out_x), np.asarray(out_y)
