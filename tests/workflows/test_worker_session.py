import json
import os
import signal
import subprocess
import sys
import time

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.errors import UsageError
from lepton_nb.training.events import Changed, EpochEnd, Paused
from lepton_nb.workflows import Session, WorkerSession, open_session
from tests.conftest import HANG_S, tiny_recipe, wait_for


@pytest.fixture(scope="module")
def session():
    s = WorkerSession(out=None)
    s.warm_up()
    yield s
    s.close()


def long_recipe():
    return tiny_recipe(train__epochs=200, data__limit=0)


def test_a_worker_run_matches_the_same_run_in_the_kernel(session, tmp_path):
    session.out = tmp_path
    epochs = []
    session.on_event(lambda e: epochs.append(e.epoch) if isinstance(e, EpochEnd) else None)
    try:
        assert session.start(tiny_recipe(train__epochs=3))
        assert session.wait(HANG_S) and session.state == "completed", session.message
    finally:
        session.out = None
        session._event_listeners.clear()
    here = lnb.train(tiny_recipe(train__epochs=3), progress=False, out=None, report=False)
    run = session.run
    a, b = here.model.state_dict(), run.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)  # seeded: the same weights, bit for bit
    assert run.metrics == here.metrics and epochs == [0, 1, 2]
    assert run.history is session.history  # the kernel's copy, filled from the worker's journal
    assert [e["epoch"] for e in run.history.epochs] == [0, 1, 2]
    assert run.history.series("batch_loss")[1].tolist() == here.history.series("batch_loss")[1].tolist()
    assert run.history.meta["recipe"] == here.history.meta["recipe"]
    assert session.trainer.global_step == here.history.epochs[-1]["step"]
    assert (run.dir / "report.html").exists() and json.loads((run.dir / "metrics.json").read_text())["status"]
    assert run.predict(run.data.inputs("test")[:3]) and run.data is not None


def test_data_sent_once_is_kept_by_the_worker(session):
    data = lnb.train(tiny_recipe(train__epochs=1), progress=False, out=None, report=False).data
    assert session.start(tiny_recipe(train__epochs=1), data=data)
    assert session.wait(HANG_S) and session.state == "completed"
    key = session.runner.process.data_key
    assert key is not None
    # a rebinding (other normalization) shares the splits: the worker reuses what it holds
    assert session.start(tiny_recipe(train__epochs=1), data=data.rebind(tiny_recipe()))
    assert session.wait(HANG_S) and session.state == "completed" and session.runner.process.data_key == key
    assert session.run.data.splits is data.splits  # the kernel's data, not a copy back


def test_pause_resume_with_changes_and_stop_act_in_the_worker(session):
    changed = []
    session.on_event(lambda e: changed.append(e) if isinstance(e, (Changed, Paused)) else None)
    try:
        assert session.start(long_recipe())
        assert wait_for(lambda: session.state == "running" and session.trainer.global_step > 5)
        session.pause()
        assert wait_for(lambda: session.state == "paused")
        step = session.trainer.global_step
        time.sleep(0.3)
        assert session.history.length("batch_loss") == step  # nothing trains while paused
        session.resume({"train.lr": 0.0005})
        assert wait_for(lambda: any(isinstance(e, Changed) for e in changed))
        assert session.trainer.cfg.lr == 0.0005  # the mirror shows the changed settings
        assert wait_for(lambda: session.trainer.global_step > step + 2)
        session.stop()
        assert session.wait(HANG_S) and session.state == "stopped"
    finally:
        session._event_listeners.clear()
    assert session.run.epochs_done < 200 and session.history.meta["changes"][0]["field"] == "train.lr"


def test_commands_given_before_the_worker_is_ready_are_kept():
    s = WorkerSession(out=None)
    try:
        assert s.start(long_recipe())
        s.stop()  # the worker is still importing torch
        assert s.wait(HANG_S) and s.state == "stopped", s.message
        assert s.run.epochs_done <= 1
    finally:
        s.close()


def test_an_error_in_the_worker_is_the_sessions_error_and_the_worker_goes_on(session, tmp_path):
    missing = tmp_path / "gone"
    assert session.start(tiny_recipe().updated({"data.source": "image_folder", "data.root": str(missing)}))
    assert session.wait(HANG_S) and session.state == "error"
    assert str(missing) in session.message and "Traceback" in session.traceback
    assert isinstance(session.error, lnb.LeptonError)  # the worker's own exception, not a copy of its text
    assert session.start(tiny_recipe(train__epochs=1)) and session.wait(HANG_S) and session.state == "completed"


def test_a_killed_worker_is_an_error_and_the_next_start_gets_a_new_one(session):
    assert session.start(long_recipe())
    assert wait_for(lambda: session.state == "running")
    pid = session.runner.process.pid
    os.kill(pid, signal.SIGKILL)
    assert session.wait(HANG_S) and session.state == "error"
    assert "killed by SIGKILL" in session.message and "press Start again" in session.message
    assert session.start(tiny_recipe(train__epochs=1)) and session.wait(HANG_S) and session.state == "completed"
    assert session.runner.process.pid != pid


def test_interrupting_the_kernel_does_not_stop_the_worker(session):
    assert session.start(tiny_recipe(train__epochs=6))
    assert wait_for(lambda: session.state == "running")
    os.kill(session.runner.process.pid, signal.SIGINT)  # Jupyter interrupts the kernel's whole process group
    assert session.wait(HANG_S) and session.state == "completed"


def test_the_worker_never_outlives_its_kernel(tmp_path):
    kernel = ("import lepton_nb as lnb, sys; s = lnb.WorkerSession(out=None); s.warm_up(); "
              "assert s.runner.process.wait_ready(); print(s.runner.process.pid, flush=True); sys.stdin.read()")
    proc = subprocess.Popen([sys.executable, "-c", kernel], stdout=subprocess.PIPE, stdin=subprocess.PIPE,
                            text=True, cwd=os.getcwd())
    pid = int(proc.stdout.readline())
    assert alive(pid)
    proc.kill()  # like a kernel restart: no chance to clean up
    proc.wait()
    assert wait_for(lambda: not alive(pid))


def alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().split(") ")[1][0] != "Z"
    except FileNotFoundError:
        return False


def test_open_session_chooses_and_validates(monkeypatch):
    assert isinstance(open_session("process", None), WorkerSession)
    thread = open_session("thread", None)
    assert isinstance(thread, Session) and not isinstance(thread, WorkerSession)
    monkeypatch.setenv("LEPTON_NB_WORKER", "thread")
    assert not isinstance(open_session(None, None), WorkerSession)
    with pytest.raises(UsageError, match="worker.*'gpu'.*allowed: 'process'"):
        open_session("gpu", None)
    monkeypatch.setenv("LEPTON_NB_WORKER", "fork")
    with pytest.raises(UsageError, match="LEPTON_NB_WORKER.*'fork'"):
        open_session(None, None)


def test_a_custom_model_object_is_refused_clearly():
    s = WorkerSession(out=None)
    with pytest.raises(UsageError, match="model.*Linear.*worker='thread'"):
        s.start(tiny_recipe(), model=torch.nn.Linear(64, 10))
    assert s.state == "idle" and s.runner.process is None  # nothing started


def test_lr_finder_and_cross_validation_run_in_the_worker(session):
    recipe = tiny_recipe()
    here = lnb.lr_find(recipe)
    there = session.call("lr_find", recipe)
    assert there.lrs == here.lrs and there.losses == here.losses and there.suggestion == here.suggestion
    folds = []
    cv = session.call("cross_validate", tiny_recipe(train__epochs=1), folds=3,
                      on_progress=lambda i, metrics: folds.append((i, round(metrics["accuracy"], 6))))
    assert [i for i, _ in folds] == [0, 1, 2] and [a for _, a in folds] == [round(f["accuracy"], 6) for f in cv.folds]
    control = lnb.Control()
    control.stop()
    stopped = session.call("cross_validate", long_recipe(), folds=5, control=control)
    assert len(stopped.folds) < 5 and stopped.status != "completed"
    with pytest.raises(UsageError, match="job.*'train'"):
        session.call("train", recipe)
    assert session.start(tiny_recipe(train__epochs=1)) and session.wait(HANG_S)  # the worker is free again


def test_the_report_is_written_after_the_run_is_handed_over_and_a_new_start_waits_for_it(session, tmp_path):
    session.out = tmp_path
    try:
        assert session.start(tiny_recipe(train__epochs=1, name="first"))
        assert wait_for(lambda: session.state == "completed")  # the run is ours; its report may follow
        first = session.run
        assert session.start(tiny_recipe(train__epochs=1, name="second"))
        assert session.wait(HANG_S) and session.state == "completed" and session.run is not first
    finally:
        session.out = None
    assert (first.dir / "report.html").exists() and (session.run.dir / "report.html").exists()
    assert first.dir.name.startswith("first") and session.run.dir.name.startswith("second")


def test_a_server_that_forbids_processes_gets_a_clear_error_not_a_crash(monkeypatch):
    def forbidden(*a, **k):
        raise PermissionError("Operation not permitted")

    monkeypatch.setattr(subprocess, "Popen", forbidden)
    s = WorkerSession(out=None)
    s.warm_up()  # what displaying a studio does: no exception
    assert s.start(tiny_recipe()) and s.wait(HANG_S) and s.state == "error"
    assert "cannot start a worker process here" in s.message and "worker='thread'" in s.message
    with pytest.raises(RuntimeError, match="worker='thread'"):
        s.call("lr_find", tiny_recipe())


def test_the_forwarder_adds_no_per_batch_event_the_kernel_does_not_use():
    import socket
    from multiprocessing.connection import Connection

    from lepton_nb.training.events import BatchEnd, BatchStart
    from lepton_nb.training.journal import JournalHistory
    from lepton_nb.workflows import make_trainer
    from lepton_nb.workflows.session.protocol import Attached, receive
    from lepton_nb.workflows.session.serve import Forwarder

    ours, theirs = socket.socketpair()
    kernel, worker = Connection(ours.detach()), Connection(theirs.detach())
    recipe = tiny_recipe()
    trainer = make_trainer(recipe, lnb.build_data(recipe), history=JournalHistory())
    Forwarder(worker, trainer.history, send_data=False).attach(trainer)
    assert isinstance(receive(kernel), Attached)
    assert trainer.events.wants(BatchEnd) and not trainer.events.wants(BatchStart)
    kernel.close()
    worker.close()


def report_pid(recipe, *, control, data, on_progress, label):
    """A job of a higher layer, as the search's is: it runs where the session trains."""
    on_progress("pid", os.getpid())
    return f"{label}:{recipe.name}:{len(data.train)}"


def test_a_module_level_job_runs_in_the_worker_with_its_progress(session):
    recipe = tiny_recipe()
    progress = []
    result = session.call(report_pid, recipe, data=lnb.build_data(recipe), label="x",
                          on_progress=lambda *args: progress.append(args))
    assert result == f"x:{recipe.name}:{len(lnb.build_data(recipe).train)}"
    assert progress == [("pid", session.runner.process.pid)] and session.runner.process.pid != os.getpid()
    assert Session().call(report_pid, recipe, data=lnb.build_data(recipe), label="y",  # a thread session: here
                          on_progress=lambda *args: progress.append(args)).startswith("y:")
    assert progress[-1] == ("pid", os.getpid())
    with pytest.raises(UsageError, match="job.*module level"):
        session.call(lambda recipe, **kw: 1, recipe)
    assert session.start(tiny_recipe(train__epochs=1)) and session.wait(HANG_S)  # the worker is free again


def thread_count(recipe, *, control, data, on_progress):
    return torch.get_num_threads()


def test_the_worker_trains_with_the_kernels_torch_thread_count(session):
    before = torch.get_num_threads()
    try:
        torch.set_num_threads(1)
        assert session.call(thread_count, tiny_recipe()) == 1
        torch.set_num_threads(2)
        assert session.call(thread_count, tiny_recipe()) == 2
    finally:
        torch.set_num_threads(before)
