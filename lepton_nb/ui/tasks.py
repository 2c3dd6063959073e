"""Background work for widget callbacks: a callback returns at once, the work runs in a thread.

Widget callbacks may run on kernel subshells, concurrently with cells and the training thread;
long work there would hold up other widget messages (a Stop click among them).
"""

from __future__ import annotations

import threading
import time
import traceback
from collections.abc import Callable
from typing import Any


class Latest:
    """Runs a function in a background thread; when calls overlap, only the newest one's result is used.

    ``delay`` debounces: a call waits that long and is dropped if another call comes meanwhile.
    """

    def __init__(self, work: Callable[..., Any], on_done: Callable[[Any], None],
                 on_error: Callable[[BaseException, str], None], delay: float = 0.0, name: str = "lepton_nb-task"):
        self.work, self.on_done, self.on_error, self.delay, self.name = work, on_done, on_error, delay, name
        self._lock = threading.Lock()
        self._generation = 0
        self._idle = threading.Event()
        self._idle.set()
        self._threads: set[threading.Thread] = set()

    def __call__(self, *args: Any) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
            self._idle.clear()
            thread = threading.Thread(target=self._run, args=(generation, args), name=self.name, daemon=True)
            self._threads.add(thread)
        thread.start()

    def _current(self, generation: int) -> bool:
        with self._lock:
            return generation == self._generation

    def _run(self, generation: int, args: tuple) -> None:
        try:
            if self.delay:
                time.sleep(self.delay)
                if not self._current(generation):
                    return
            result = self.work(*args)
            if self._current(generation):
                self.on_done(result)
        except BaseException as exc:  # shown in the panel, never lost in a thread
            if self._current(generation):
                self.on_error(exc, traceback.format_exc())
        finally:
            with self._lock:
                self._threads.discard(threading.current_thread())
            if self._current(generation):
                self._idle.set()

    def cancel(self) -> None:
        """Drop the result of every call made so far (what they would show no longer applies)."""
        with self._lock:
            self._generation += 1
            self._idle.set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the newest call has finished (for tests and notebooks)."""
        return self._idle.wait(timeout)

    def close(self, timeout: float = 60.0) -> None:
        """Drop the results of running calls and wait for their threads to end (none is left inside torch
        when the process exits)."""
        with self._lock:
            self._generation += 1
            threads = list(self._threads)
        deadline = time.monotonic() + timeout
        for thread in threads:
            thread.join(max(0.0, deadline - time.monotonic()))
        self._idle.set()
