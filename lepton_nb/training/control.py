"""Cooperative stop/pause flags: set from any thread, checked by the loop between batches."""

from __future__ import annotations

import threading


class Control:
    """Stop, pause and resume a running loop from another thread (a button, a signal, a test).

    The loop reads ``pending`` (one attribute) per batch and only looks further when it is set,
    so checking costs nothing measurable.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._running.set()
        self._stop = False
        self.reason = ""
        self.pending = False
        self._changes: dict[str, object] = {}

    def stop(self, reason: str = "stopped by user") -> None:
        with self._lock:
            if not self._stop:
                self._stop, self.reason = True, reason
            self.pending = True
            self._running.set()  # a paused loop wakes up to stop

    def pause(self) -> None:
        with self._lock:
            if not self._stop:
                self._running.clear()
                self.pending = True

    def resume(self, changes: dict[str, object] | None = None) -> None:
        """Run on; ``changes`` (dotted recipe keys, see `train.changes`) apply before the next batch."""
        with self._lock:
            if changes:
                self._changes.update(changes)
            self._running.set()
            self.pending = self._stop

    def take_changes(self) -> dict[str, object]:
        """The changes sent with Resume, once."""
        with self._lock:
            changes, self._changes = self._changes, {}
            return changes

    @property
    def stop_requested(self) -> bool:
        return self._stop

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self, timeout: float | None = None) -> bool:
        """Block while paused; True once running again (or stopping)."""
        return self._running.wait(timeout)

    def reset(self) -> None:
        with self._lock:
            self._stop, self.reason, self.pending = False, "", False
            self._running.set()
