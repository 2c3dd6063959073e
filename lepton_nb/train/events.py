"""Typed events the trainer emits, and the bus that delivers them to subscribers.

Subscribers run on the training thread between batches: they must be quick (views only copy
numbers and return; heavy work such as rendering happens on the view's own throttle).
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Event:
    """Base class; ``kind`` is a short name for logs and front ends."""

    @property
    def kind(self) -> str:
        return type(self).__name__


@dataclass
class FitStart(Event):
    epochs: int
    start_epoch: int
    steps_per_epoch: int
    samples_per_epoch: int


@dataclass
class EpochStart(Event):
    epoch: int


@dataclass
class BatchStart(Event):
    epoch: int
    step: int
    global_step: int


@dataclass
class BatchEnd(Event):
    epoch: int
    step: int
    global_step: int
    loss: float
    lr: float
    size: int


@dataclass
class EvalEnd(Event):
    epoch: int
    split: str
    metrics: dict[str, float]


@dataclass
class EpochEnd(Event):
    epoch: int
    metrics: dict[str, float]
    seconds: float


@dataclass
class Paused(Event):
    epoch: int
    global_step: int


@dataclass
class Resumed(Event):
    epoch: int
    global_step: int


@dataclass
class Stopped(Event):
    epoch: int
    global_step: int
    reason: str


@dataclass
class Diverged(Event):
    epoch: int
    global_step: int
    message: str


@dataclass
class ErrorEvent(Event):
    message: str
    traceback: str


@dataclass
class FitEnd(Event):
    status: str  # completed | stopped | early_stopped | diverged | error
    epochs_done: int
    seconds: float
    message: str = ""


Handler = Callable[[Event], Any]


@dataclass
class EventBus:
    """Delivers each event to the handlers subscribed to its type (or to all events)."""

    _handlers: dict[type, list[Handler]] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def subscribe(self, handler: Handler, *types: type) -> Callable[[], None]:
        """Call ``handler(event)`` for events of ``types`` (all events when none); returns an unsubscriber."""
        keys = types or (Event,)
        with self._lock:
            for t in keys:
                self._handlers.setdefault(t, []).append(handler)

        def unsubscribe() -> None:
            with self._lock:
                for t in keys:
                    if handler in self._handlers.get(t, []):
                        self._handlers[t].remove(handler)
        return unsubscribe

    def wants(self, event_type: type) -> bool:
        """Whether anyone listens for ``event_type`` (lets the hot loop skip building events)."""
        return bool(self._handlers.get(event_type) or self._handlers.get(Event))

    def emit(self, event: Event) -> None:
        handlers = self._handlers.get(type(event), []) + self._handlers.get(Event, [])
        for handler in handlers:
            handler(event)
