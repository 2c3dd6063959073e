"""The live attribution timeline (anywidget): probe frames streamed while a run trains, with a slider and play."""

from __future__ import annotations

import base64
import threading
from collections.abc import Callable
from typing import Any

import anywidget
import numpy as np
import torch
import traitlets as t

from ...data import DataBundle
from ...plotting.attributions import (
    attribution_map,
    shared_scale,
)
from ...recipe import DATA_KINDS
from ...training.history import History
from ..assets import asset
from .live import ReplyContext


def _b64(array: np.ndarray) -> str:
    return base64.b64encode(np.ascontiguousarray(array).tobytes()).decode()


def encode_frame(frame: dict[str, Any], kind: str, lengths: list[int]) -> dict[str, Any]:
    """One epoch's attributions as int8 per probe on a shared scale (small, bounded messages)."""
    attrs = np.asarray(frame["attributions"], dtype=np.float32)
    maps = [attribution_map(a) if DATA_KINDS[kind].pixels else a[: lengths[i]] if DATA_KINDS[kind].tokens else a
            for i, a in enumerate(attrs)]
    scale = shared_scale(maps)
    data = [_b64(np.clip(np.round(127 * m / scale), -127, 127).astype(np.int8)) for m in maps]
    out = {"epoch": int(frame["epoch"]), "predictions": list(frame["predictions"]),
           "confidence": list(frame["confidence"]), "scale": scale, "data": data}
    if DATA_KINDS[kind].tokens and frame.get("attention") is not None:  # a transformer's attention rollout per word
        att = np.asarray(frame["attention"], dtype=np.float32)
        out["attention"] = [[round(float(v), 3) for v in a[: lengths[i]]] for i, a in enumerate(att)]
    return out


class AttributionTimeline(ReplyContext, anywidget.AnyWidget):
    """Probe tiles per epoch with a slider and a play button; frames are sent once, as they come."""

    _esm = asset("attributions.js")
    _css = asset("attributions.css")
    kind = t.Unicode("image").tag(sync=True)
    classes = t.List().tag(sync=True)
    probes = t.List().tag(sync=True)
    note = t.Unicode("The probe set is explained at epoch ends while a run trains.").tag(sync=True)

    def __init__(self, **kwargs: Any):
        super().__init__(**kwargs)
        self._lock = threading.RLock()
        self._history: History | None = None
        self._data: DataBundle | Callable[[], DataBundle | None] | None = None
        self._sent = 0
        self._lengths: list[int] = []
        self._base_note = ""
        self.on_msg(self._on_msg)

    def bind(self, history: History, data: DataBundle | Callable[[], DataBundle | None] | None) -> None:
        """Follow a run's history; ``data`` may be a callable (the run's data is known once it loaded)."""
        with self._lock:
            self._history, self._data, self._sent = history, data, 0
            self.probes, self._lengths = [], []
            self.send_reset()

    def _on_msg(self, _widget: Any, content: Any, _buffers: Any) -> None:
        if isinstance(content, dict) and content.get("type") == "hello":
            self.remember_context()
            self.send_reset()

    def _ensure_probes(self) -> bool:
        """Describe the probe samples once the run has chosen them (after its data loaded)."""
        if self.probes:
            return True
        meta = self._history.meta.get("probes") if self._history is not None else None
        data = self._data() if callable(self._data) else self._data
        if meta is None or data is None:
            return False
        idx = torch.as_tensor(meta["indices"])
        split = meta["split"]
        probes: list[dict[str, Any]] = []
        if DATA_KINDS[data.kind].pixels:
            raw = (data.raw(split, idx).clamp(0, 1) * 255).round().to(torch.uint8)
            for img, label in zip(raw, meta["labels"]):
                c, h, w = img.shape
                probes.append({"label": label, "image": {"w": w, "h": h, "c": c,
                                                         "data": _b64(img.permute(1, 2, 0).numpy())}})
            self._lengths = []
        elif DATA_KINDS[data.kind].tokens:
            words = [data.vocab.decode(ids) for ids in data.splits[split].x[idx]]
            probes = [{"label": label, "words": w} for w, label in zip(words, meta["labels"])]
            self._lengths = [len(w) for w in words]
        else:
            probes = [{"label": label, "features": data.feature_names} for label in meta["labels"]]
        with self.hold_sync():
            self.kind, self.classes, self.probes = data.kind, list(data.classes), probes
            self._base_note = (f"{meta['method']} on {len(probes)} probe samples of the {split} split · red: evidence "
                               f"for the predicted class, blue: against · one colour scale per epoch"
                               + (" · green underline (transformers): attention rollout, the share of the sentence "
                                  "vector that flows from the word" if DATA_KINDS[data.kind].tokens else ""))
            self._show_note()
        return True

    def _show_note(self) -> None:
        """The probe description, and why the timeline has few frames when the run says so (``probe_note``)."""
        why = self._history.meta.get("probe_note") if self._history is not None else None
        note = f"{self._base_note} · {why}" if why else self._base_note
        if note and note != self.note:
            self.note = note

    def _frames(self, start: int) -> list[dict[str, Any]]:
        frames = self._history.artifacts.get("attributions", []) if self._history is not None else []
        return [encode_frame(f, self.kind, self._lengths) for f in frames[start:]]

    def send_reset(self) -> None:
        with self._lock:
            ready = self._ensure_probes()
            frames = self._frames(0) if ready else []
            self._sent = len(frames)
            self.send({"type": "reset", "frames": frames})

    def push(self) -> int:
        """Send frames logged since the last push; returns how many."""
        with self._lock:
            if self._history is None or not self._ensure_probes():
                return 0
            self._show_note()
            frames = self._frames(self._sent)
            if frames:
                self.send({"type": "frames", "start": self._sent, "frames": frames})
                self._sent += len(frames)
            return len(frames)
