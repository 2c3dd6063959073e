"""Pause → edit → Resume in the studio: the edit applies, is recorded and marked; other fields are locked."""

import threading

from lepton_nb.training.events import BatchEnd
from tests.conftest import HANG_S, wait_for


def test_pause_edit_resume_applies_records_and_marks(studio):
    studio.update({"train.epochs": 20, "train.lr": 0.004})
    paused = threading.Event()
    studio.session.on_event(lambda e: studio.pause() if isinstance(e, BatchEnd) and e.global_step == 4 else None)
    studio.session.on_state(lambda s: paused.set() if s == "paused" else None)
    assert studio.start()
    lr, width = studio.form.controls()["train.lr"], studio.form.controls()["model.width"]
    assert paused.wait(HANG_S)
    # the worker's events reach the kernel in bundles: the pause sent at step 4 lands a few batches later
    step = studio.session.trainer.global_step
    assert step >= 4
    wait_for(lambda: not lr.widget.disabled)
    assert width.widget.disabled and "model is built at Start" in width.widget.tooltip
    assert studio.form.controls()["train.epochs"].widget.disabled  # one_cycle plans over the epochs
    assert "Now change" in studio.lock_note.value
    lr.set(0.001)
    assert studio.pending_changes() == {"train.lr": 0.001}
    assert studio.resume() == {"train.lr": 0.001}
    assert "applied on Resume: lr = 0.001" in studio.monitor.message
    wait_for(lambda: studio.monitor.marks)
    assert studio.monitor.marks == [{"step": step, "text": "lr 0.004→0.001"}]  # where the run was paused
    wait_for(lambda: lr.widget.disabled)  # running again: pause to change it
    assert "pause the run" in lr.widget.tooltip
    ticks = studio.live.feed.ticks
    assert wait_for(lambda: studio.live.feed.ticks >= ticks + 2)  # the live view rewrote the message twice since
    assert studio.monitor.message == "training · applied on Resume: lr = 0.001"  # the note stays while it runs
    studio.stop()
    assert studio.wait(HANG_S)
    assert "applied on Resume" not in studio.monitor.message  # ... and goes with the run
    run = studio.run
    assert run.recipe.train.lr == 0.004 and run.history.meta["changes"][0]["new"] == 0.001
    assert run.history.meta["changes"][0]["step"] == step
    assert not lr.widget.disabled and not width.widget.disabled and studio.lock_note.value == ""


def test_nothing_is_pending_unless_paused(studio):
    studio.update({"train.lr": 0.002})
    assert studio.pending_changes() == {}
    assert studio.resume() == {}
