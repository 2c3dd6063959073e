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

    def resume(self) -> None:
        with self._lock:
            self._running.set()
            self.pending = self._stop

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
