"""The training process's handle: prestarted in a kernel before torch loads, adopted once, never left behind."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from lepton_nb.workflows import WorkerSession, open_session
from lepton_nb.workflows.session import launch as spawn
from tests.conftest import HANG_S


@pytest.fixture
def kernel(monkeypatch):
    monkeypatch.setattr(spawn, "in_kernel", lambda: True)
    monkeypatch.delenv("LEPTON_NB_WORKER", raising=False)
    yield
    leftover = spawn.adopt()
    if leftover is not None:
        leftover.close()


def test_a_prestarted_worker_is_adopted_once_by_the_studios_session(kernel):
    spawn.prestart()
    spawn.prestart()  # once
    worker = spawn._prestarted
    assert worker is not None and worker.alive()
    session = WorkerSession(out=None)
    try:
        session.warm_up()
        assert session.runner.process is worker and spawn.adopt() is None
        assert worker.wait_ready() and worker.pid == worker.proc.pid
    finally:
        session.close()
    assert not worker.alive()


def test_a_thread_studio_ends_a_prestarted_worker_and_the_env_prevents_it(kernel, monkeypatch):
    spawn.prestart()
    worker = spawn._prestarted
    open_session("thread", out=None)
    assert spawn._prestarted is None and not worker.alive()
    monkeypatch.setenv("LEPTON_NB_WORKER", "thread")
    spawn.prestart()
    assert spawn._prestarted is None


def test_an_unadopted_worker_expires(kernel):
    spawn.prestart()
    worker = spawn._prestarted
    spawn._expire(worker)
    assert spawn._prestarted is None and not worker.alive()


def test_the_worker_is_given_the_folder_of_this_package():
    assert (Path(spawn.package_root()) / "lepton_nb" / "workflows" / "session" / "launch.py").is_file()


def test_outside_a_kernel_nothing_starts_and_looking_up_studio_prestarts_only_in_a_kernel():
    code = ("import lepton_nb as lnb, lepton_nb.workflows.session.launch as s, sys\n"
            "lnb.Studio\n"
            "print(s._prestarted is None, 'torch' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_S)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["True", "True"]
    assert spawn.in_kernel() is False  # pytest is no kernel (and in_kernel never imports IPython)


def test_an_interrupted_worker_still_starting_says_nothing_on_the_console():
    """Jupyter interrupts the kernel's process group before a shutdown: a worker still importing torch must not
    print a KeyboardInterrupt traceback to the server console (its stderr is the kernel's)."""
    code = ("import os, signal, time\n"
            "from lepton_nb.workflows.session.launch import TrainingProcess\n"
            "w = TrainingProcess(); w.spawn()\n"
            "time.sleep(0.5); os.kill(w.proc.pid, signal.SIGINT)\n"  # mid-import of torch
            "print('ready' if w.wait_ready() else w.error)\n"
            "w.close()\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=180)
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["ready"]  # the interrupt did not end the worker either
    assert "Traceback" not in out.stderr and "KeyboardInterrupt" not in out.stderr, out.stderr


def test_a_prestarted_worker_is_not_adopted_after_the_kernel_changed_folder_or_settings(kernel, monkeypatch,
                                                                                        tmp_path):
    spawn.prestart()
    worker = spawn._prestarted
    monkeypatch.chdir(tmp_path)  # %cd in the notebook: a relative out="runs" now means another folder
    assert spawn.adopt() is None and not worker.alive()
    spawn.prestart()
    worker = spawn._prestarted
    monkeypatch.setenv("LEPTON_NB_TEST_SETTING", "1")
    assert spawn.adopt() is None and not worker.alive()
    spawn.prestart()
    worker = spawn._prestarted
    monkeypatch.setenv("SOME_LIBRARY_FLAG", "1")  # what an import in the kernel may set: not ours to match
    assert spawn.adopt() is worker
    worker.close()
