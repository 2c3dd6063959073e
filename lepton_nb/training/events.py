"""Typed events the trainer emits, and the bus that delivers them to subscribers.

Subscribers run on the training thread between batches: they must be quick (views only copy
numbers and return; heavy work such as rendering happens on the view's own throttle).
Two kinds of subscriber: *callbacks* change training (early stopping, pruning) and an error in
one ends the run with its traceback; *observers* (views, feeds, loggers) only watch, and an
error in one is logged and that observer detached — it never ends a training run.
"""

from __future__ import annotations

import logging
import re
import threading
import traceback
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
class Changed(Event):
    """Settings changed while paused (applied from ``global_step`` on); see `train.changes`."""

    epoch: int
    global_step: int
    changes: list


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


EVENT_TYPES: tuple[type[Event], ...] = (FitStart, EpochStart, BatchStart, BatchEnd, EvalEnd, EpochEnd, Paused,
                                        Resumed, Stopped, Diverged, ErrorEvent, FitEnd)


def hook_name(event_type: type[Event]) -> str:
    """The handler method name for an event type: ``EpochEnd`` → ``on_epoch_end``, ``ErrorEvent`` → ``on_error``."""
    name = event_type.__name__.removesuffix("Event") or event_type.__name__
    return "on_" + re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


Handler = Callable[[Event], Any]
log = logging.getLogger("lepton_nb")


@dataclass
class HandlerFailure:
    """An observer that raised and was detached: its name, the error and the traceback."""

    handler: str
    message: str
    traceback: str


@dataclass
class EventBus:
    """Delivers each event to the handlers subscribed to its type (or to all events)."""

    _handlers: dict[type, list[Handler]] = field(default_factory=dict)
    _observers: set[int] = field(default_factory=set)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    failures: list[HandlerFailure] = field(default_factory=list)

    def subscribe(self, handler: Handler, *types: type, observer: bool = True) -> Callable[[], None]:
        """Call ``handler(event)`` for events of ``types`` (all events when none); returns an unsubscriber.

        ``observer=True`` (the default: views, feeds, loggers): an exception in the handler is logged,
        recorded in ``failures`` and the handler detached; training goes on. ``observer=False``
        (callbacks that change training): the exception ends the run as an error.
        """
        keys = types or (Event,)
        with self._lock:
            for t in keys:
                self._handlers.setdefault(t, []).append(handler)
            if observer:
                self._observers.add(id(handler))

        def unsubscribe() -> None:
            with self._lock:
                for t in keys:
                    if handler in self._handlers.get(t, []):
                        self._handlers[t].remove(handler)
                self._observers.discard(id(handler))
        return unsubscribe

    def wants(self, event_type: type) -> bool:
        """Whether anyone listens for ``event_type`` (lets the hot loop skip building events)."""
        return bool(self._handlers.get(event_type) or self._handlers.get(Event))

    def emit(self, event: Event) -> None:
        handlers = self._handlers.get(type(event), []) + self._handlers.get(Event, [])
        for handler in handlers:
            if id(handler) not in self._observers:
                handler(event)
                continue
            try:
                handler(event)
            except Exception as exc:
                self._detach(handler, exc)

    def _detach(self, handler: Handler, exc: Exception) -> None:
        name = getattr(handler, "__qualname__", repr(handler))
        failure = HandlerFailure(name, f"{type(exc).__name__}: {exc}", traceback.format_exc())
        self.failures.append(failure)
        log.warning("lepton_nb: observer %s failed and was detached (training goes on): %s\n%s", name,
                    failure.message, failure.traceback)
        with self._lock:
            for handlers in self._handlers.values():
                while handler in handlers:
                    handlers.remove(handler)
            self._observers.discard(id(handler))
