"""Changes made while a run is paused apply on Resume, exactly as shown, and are recorded with their step."""

import json
import threading

import numpy as np
import pytest

import lepton_nb as lnb
from lepton_nb.errors import RecipeError
from lepton_nb.training.callbacks import Callback
from lepton_nb.training.changes import MID_RUN, check_changes, locked_reason
from lepton_nb.training.events import BatchEnd, Changed
from lepton_nb.workflows.fit import make_trainer
from tests.conftest import HANG_S, tiny_recipe, wait_for


class PauseAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_batch_end(self, event: BatchEnd) -> None:
        if event.global_step == self.step:
            self.trainer.control.pause()


def fit_with_change(recipe, step, changes):
    """Fit, pausing after ``step`` batches and resuming with ``changes`` from another thread."""
    data = lnb.build_data(recipe)
    trainer = make_trainer(recipe, data, callbacks=[PauseAt(step)])
    seen = []
    trainer.events.subscribe(seen.append, Changed)
    if changes is not None:
        def resume():
            wait_for(lambda: trainer.status == "paused")
            trainer.control.resume(changes)
        threading.Thread(target=resume, daemon=True).start()
    else:
        trainer.callbacks.clear()
    trainer.fit()
    return trainer, seen


@pytest.mark.parametrize("scheduler", ["cosine", "one_cycle", "step", "warmup_cosine", "none"])
def test_a_new_learning_rate_rescales_the_schedule_from_the_resume_step_on(scheduler):
    recipe = tiny_recipe(train__scheduler=scheduler, train__epochs=3)
    base, _ = fit_with_change(recipe, 0, None)
    changed, events = fit_with_change(recipe, 5, {"train.lr": recipe.train.lr / 4})
    _, lr_base = base.history.series("lr")
    steps, lr_new = changed.history.series("lr")
    assert len(lr_new) == len(lr_base)
    k = int(np.searchsorted(steps, 6))  # the first batch after the pause (logged at step 6)
    np.testing.assert_allclose(lr_new[:k], lr_base[:k])
    np.testing.assert_allclose(lr_new[k:], lr_base[k:] / 4, rtol=1e-6)
    assert [(c["step"], c["field"], c["new"]) for c in events[0].changes] == [(5, "train.lr", recipe.train.lr / 4)]
    assert changed.history.meta["changes"] == events[0].changes
    assert changed.cfg.lr == recipe.train.lr / 4 and recipe.train.lr == 0.005  # the recipe stays the start


def test_weight_decay_clipping_patience_and_epochs_apply():
    recipe = tiny_recipe(train__scheduler="none", train__epochs=2, train__early_stopping__enabled=True)
    trainer, _ = fit_with_change(recipe, 3, {"train.weight_decay": 0.05, "train.grad_clip": 0.5,
                                            "train.epochs": 4, "train.early_stopping.patience": 9})
    assert all(g["weight_decay"] == 0.05 for g in trainer.optimizer.param_groups)
    assert trainer.cfg.grad_clip == 0.5 and trainer.epoch == 4 and len(trainer.history.epochs) == 4
    es = next(cb for cb in trainer.callbacks if type(cb).__name__ == "EarlyStopping")
    assert es.cfg.patience == 9
    assert {c["field"] for c in trainer.history.meta["changes"]} == {
        "train.weight_decay", "train.grad_clip", "train.epochs", "train.early_stopping.patience"}


def test_what_cannot_change_mid_run_says_why():
    cfg = tiny_recipe().train
    assert locked_reason("train.epochs", cfg) == "the one_cycle schedule is planned over the epochs set at Start"
    assert locked_reason("train.lr", cfg) is None and "batches" in locked_reason("train.batch_size", cfg)
    assert "model is built" in locked_reason("model.width", cfg)
    problems = check_changes(cfg, {"train.batch_size": 8, "train.epochs": 10}, epochs_done=1)
    assert [p.field for p in problems] == ["train.batch_size", "train.epochs"]
    assert "cannot change mid-run" in problems[0].allowed and "train.lr" in problems[0].allowed
    none = tiny_recipe(train__scheduler="none").train
    assert check_changes(none, {"train.epochs": 1}, epochs_done=1)[0].allowed.startswith("allowed: more than")
    assert set(MID_RUN) >= {"train.lr", "train.epochs"}


def test_session_refuses_changes_unless_paused_and_valid(tmp_path):
    session = lnb.Session(out=tmp_path)
    recipe = tiny_recipe(train__epochs=30)
    paused = threading.Event()
    session.on_state(lambda s: paused.set() if s == "paused" else None)
    session.on_event(lambda e: session.pause() if isinstance(e, BatchEnd) and e.global_step == 3 else None)
    assert session.start(recipe)
    assert paused.wait(HANG_S)
    with pytest.raises(RecipeError, match="train.lr"):
        session.resume({"train.lr": -1.0})
    with pytest.raises(RecipeError, match="cannot change mid-run"):
        session.resume({"model.width": 4})
    session.resume({"train.lr": 0.001})
    wait_for(lambda: session.state == "running")
    with pytest.raises(lnb.UsageError, match="paused run"):
        session.resume({"train.lr": 0.002})
    session.stop()
    assert session.wait(HANG_S)
    run = session.run
    assert json.loads((run.dir / "changes.json").read_text())[0]["new"] == 0.001
    assert json.loads((run.dir / "recipe.json").read_text())["train"]["lr"] == 0.005
    report = (run.dir / "report.html").read_text()
    assert "Changed while paused" in report and "train.lr" in report
