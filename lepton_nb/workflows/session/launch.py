"""The training process's handle, in the standard library only.

A studio's runs train in a process of their own (`serve`). This module starts it, and imports neither torch nor
the rest of the package (only the `protocol`): a notebook kernel can start the process when ``lnb.Studio`` is
first looked up (`prestart`), so its torch import runs on the second core while the kernel imports torch and
builds the panels, instead of after them.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from multiprocessing.connection import Connection
from pathlib import Path

from ...kernel import in_kernel
from .protocol import Descriptors, Ready, Request, receive, send, send_fds

# SIGINT is ignored before anything else: Jupyter interrupts a kernel's whole process group before it shuts the
# kernel down, and a training process still importing torch would print a KeyboardInterrupt traceback on the
# server console
ENTRY = ("import signal; signal.signal(signal.SIGINT, signal.SIG_IGN); import sys; "
         "from lepton_nb.workflows.session.serve import main; sys.exit(main(sys.argv[1:]))")
START_TIMEOUT = 120.0  # seconds for a fresh process to import torch and report ready
PRESTART_TTL = 120.0  # a prestarted process no studio adopted within this time is ended (it holds ~0.5 GB)
WORKER_ENV = "LEPTON_NB_WORKER"  # where a studio trains: "process" (default) or "thread"


# the environment a training process reads: our own settings and what decides imports and thread counts (not the
# whole environment: importing torch or the widgets in the kernel after a prestart may set variables of their own)
CONTEXT_ENV = ("PYTHONPATH", "PYTHONHASHSEED", "OMP_NUM_THREADS", "MKL_NUM_THREADS", "CUBLAS_WORKSPACE_CONFIG")


def spawn_context() -> tuple[str, tuple[tuple[str, str], ...]]:
    """The working folder and the settings a process starts with: a prestarted process is adopted only while
    both are still the kernel's (a relative run folder, ``LEPTON_NB_*`` settings mean the same there)."""
    env = tuple(sorted((k, v) for k, v in os.environ.items() if k.startswith("LEPTON_NB_") or k in CONTEXT_ENV))
    return os.getcwd(), env


def package_root() -> str:
    """The folder holding this lepton_nb: put on the process's path, however the kernel found the package."""
    return str(Path(__file__).resolve().parents[3])


class TrainingProcess:
    """One training process and the kernel's end of its socket pair; started in the background."""

    def __init__(self) -> None:
        self.proc: subprocess.Popen[bytes] | None = None
        self.conn: Connection | None = None
        self.pid: int | None = None
        self.ready = threading.Event()
        self.error = ""
        self.data_key: str | None = None  # the data the process keeps
        self.context: tuple[str, tuple[tuple[str, str], ...]] | None = None  # folder and environment it began in
        self._send_lock = threading.Lock()

    def spawn(self) -> None:
        """Start the process (returns at once); `wait_ready` blocks until it has imported torch."""
        ours, theirs = socket.socketpair()
        self.context = spawn_context()
        root = package_root()
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "PYTHONPATH": os.pathsep.join(p for p in (root, os.environ.get("PYTHONPATH", "")) if p)}
        self.proc = subprocess.Popen([sys.executable, "-c", ENTRY, str(theirs.fileno())],
                                     pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL)
        theirs.close()
        self.conn = Connection(ours.detach())

    def wait_ready(self, timeout: float = START_TIMEOUT) -> bool:
        """Block until the process says it is ready; False (with ``error``) when it died or timed out."""
        if self.ready.is_set():
            return True
        assert self.conn is not None
        if not self.conn.poll(timeout):
            self.error = f"the training process did not start within {timeout:.0f} s"
            return False
        try:
            message = receive(self.conn)
        except (EOFError, OSError):
            self.error = f"the training process exited while starting (exit code {self.exit_code()})"
            return False
        if not isinstance(message, Ready):
            self.error = f"the training process answered {type(message).__name__} instead of Ready"
            return False
        self.pid = message.pid
        self.ready.set()
        return True

    def send(self, message: Request) -> None:
        assert self.conn is not None
        with self._send_lock:
            send(self.conn, message)

    def send_pickled(self, payload: bytes, fds: list[int]) -> None:
        """A message pickled with references to shared-memory descriptors (`shared_data`): in step with the
        process's reader, the count, the descriptors, then the message."""
        assert self.conn is not None
        with self._send_lock:
            if fds:
                send(self.conn, Descriptors(len(fds)))
                send_fds(self.conn.fileno(), fds)
            self.conn.send_bytes(payload)

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def exit_code(self) -> int | None:
        if self.proc is None:
            return None
        try:
            return self.proc.wait(timeout=2)
        except subprocess.TimeoutExpired:
            return None

    def close(self) -> None:
        """End the process (it also ends by itself when the kernel goes away)."""
        if self.conn is not None:
            self.conn.close()
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_prestarted: TrainingProcess | None = None
_lock = threading.Lock()


def prestart() -> None:
    """In a kernel whose studio will train in a process, start that process now (once; errors are left to
    the studio, which reports them when it starts its own)."""
    global _prestarted
    if os.name == "nt" or os.environ.get(WORKER_ENV, "").strip() == "thread" or not in_kernel():
        return
    with _lock:
        if _prestarted is not None:
            return
        process = TrainingProcess()
        try:
            process.spawn()
        except OSError:
            return
        _prestarted = process
    timer = threading.Timer(PRESTART_TTL, _expire, args=(process,))
    timer.daemon = True
    timer.start()


def adopt() -> TrainingProcess | None:
    """The prestarted process, handed over once (None when there is none, it died, or the kernel changed its
    working folder or environment since it started: then it is ended and the caller starts a new one)."""
    global _prestarted
    with _lock:
        process, _prestarted = _prestarted, None
    if process is None:
        return None
    if process.alive() and process.context == spawn_context():
        return process
    process.close()
    return None


def _expire(process: TrainingProcess) -> None:
    global _prestarted
    with _lock:
        if _prestarted is not process:
            return  # adopted
        _prestarted = None
    process.close()
