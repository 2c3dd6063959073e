import threading
import time

import pytest
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.artifacts import RunFolder
from lepton_nb.training.callbacks import Callback
from lepton_nb.training.checkpoint import CheckpointError, load_checkpoint, save_checkpoint
from lepton_nb.training.events import (
    BatchEnd,
    EpochEnd,
    EpochStart,
    ErrorEvent,
    FitEnd,
    FitStart,
    Paused,
    Resumed,
    Stopped,
    hook_name,
)
from tests.conftest import HANG_S, tiny_recipe, wait_for


def make_trainer(recipe=None, **kwargs):
    recipe = recipe or tiny_recipe()
    data = lnb.build_data(recipe)
    from lepton_nb.workflows.fit import make_trainer as mk

    return mk(recipe, data, **kwargs)


def test_events_arrive_in_order_and_history_records_everything():
    trainer = make_trainer()
    seen = []
    trainer.events.subscribe(lambda e: seen.append(type(e).__name__))
    assert trainer.fit() == "completed"
    assert seen[0] == "FitStart" and seen[-1] == "FitEnd"
    assert seen.count("EpochStart") == seen.count("EpochEnd") == 2
    assert seen.count("BatchStart") == seen.count("BatchEnd") == 2 * len(trainer.train_batches)
    h = trainer.history
    assert h.length("batch_loss") == 2 * len(trainer.train_batches) == h.length("lr")
    assert [e["epoch"] for e in h.epochs] == [0, 1]
    assert {"train_loss", "train_accuracy", "val_loss", "val_accuracy", "samples_per_s"} <= set(h.epochs[0])
    assert h.series("val_loss")[0].tolist() == [e["step"] for e in h.epochs]


def run_in_thread(trainer):
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("status", trainer.fit()), daemon=True)
    thread.start()
    return thread, result


def test_stop_from_another_thread_takes_effect_within_a_batch():
    trainer = make_trainer(tiny_recipe(train__epochs=50, data__limit=0))
    stopped_at = {}
    trainer.events.subscribe(lambda e: stopped_at.setdefault("step", e.global_step), Stopped)
    thread, result = run_in_thread(trainer)
    assert wait_for(lambda: trainer.history.length("batch_loss") > 5, alive=thread.is_alive)
    trainer.control.stop()
    asked_at = trainer.global_step  # read after asking: at most the batch in flight then may still finish
    thread.join(HANG_S)
    assert not thread.is_alive() and result["status"] == "stopped"
    assert stopped_at["step"] - asked_at <= 1  # at most the batch that was running (a count, not seconds)
    assert trainer.epoch < 50


def test_pause_and_resume_keep_the_history():
    trainer = make_trainer(tiny_recipe(train__epochs=3))
    events = []
    trainer.events.subscribe(lambda e: events.append(type(e).__name__), Paused, Resumed)
    thread, result = run_in_thread(trainer)
    assert wait_for(lambda: trainer.history.length("batch_loss") > 3, alive=thread.is_alive)
    trainer.control.pause()
    assert wait_for(lambda: trainer.status == "paused", alive=thread.is_alive)
    n = trainer.history.length("batch_loss")
    time.sleep(0.3)
    assert trainer.history.length("batch_loss") == n  # nothing moves while paused
    trainer.control.resume()
    thread.join(HANG_S)
    assert result["status"] == "completed" and events == ["Paused", "Resumed"]
    assert trainer.history.length("batch_loss") == 3 * len(trainer.train_batches)


def test_stop_while_paused_ends_the_run():
    trainer = make_trainer(tiny_recipe(train__epochs=20))
    thread, result = run_in_thread(trainer)
    assert wait_for(lambda: trainer.history.length("batch_loss") > 2, alive=thread.is_alive)
    trainer.control.pause()
    assert wait_for(lambda: trainer.status == "paused", alive=thread.is_alive)
    trainer.control.stop()
    thread.join(HANG_S)
    assert result["status"] == "stopped"


class NaNAfter(nn.Module):
    """A custom model whose outputs turn NaN after a number of forward passes."""

    def __init__(self, after: int):
        super().__init__()
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
        self.calls, self.after = 0, after

    def forward(self, x):
        if self.training:
            self.calls += 1
        out = self.net(x)
        return out * float("nan") if self.training and self.calls > self.after else out


def test_divergence_ends_the_run_with_a_message_and_keeps_the_best(tmp_path):
    recipe = tiny_recipe(train__epochs=5, train__lr=0.01)
    model = NaNAfter(after=25)  # 8 batches per epoch: diverges in epoch 4
    run = lnb.train(recipe, model=model, progress=False, out=tmp_path)
    assert run.status == "diverged"
    assert "lower train.lr" in run.message and "epoch 4" in run.message
    assert (run.dir / "checkpoints" / "best.pt").exists()
    assert all(torch.isfinite(p).all() for p in run.model.parameters())
    assert run.metrics["accuracy"] > 0.5  # evaluated with the best weights, not NaN ones
    assert "diverged" in (run.dir / "report.html").read_text()


def test_checkpoints_are_atomic(tmp_path, monkeypatch):
    path = tmp_path / "last.pt"
    save_checkpoint(path, {"w": torch.ones(3)})

    def broken_save(obj, fh, *a, **k):
        fh.write(b"half a checkpoint")
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", broken_save)
    with pytest.raises(OSError):
        save_checkpoint(path, {"w": torch.zeros(3)})
    monkeypatch.undo()
    assert torch.equal(load_checkpoint(path)["w"], torch.ones(3))
    assert [p.name for p in tmp_path.iterdir()] == ["last.pt"]


class Evil:
    def __reduce__(self):
        return (print, ("this must never run",))


def test_checkpoints_load_weights_only(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"x": Evil()}, path)
    with pytest.raises(CheckpointError, match="cannot be loaded safely"):
        load_checkpoint(path)
    with pytest.raises(CheckpointError, match="no such file"):
        load_checkpoint(tmp_path / "missing.pt")


def test_resume_continues_exactly_where_the_run_stopped(tmp_path):
    recipe = tiny_recipe(train__epochs=4)
    straight = lnb.train(recipe, progress=False, out=tmp_path / "a")

    class StopAfterTwo:
        def attach(self, trainer):
            trainer.events.subscribe(lambda e: e.epoch == 1 and trainer.control.stop(), EpochEnd)

    first = lnb.train(recipe, progress=False, out=tmp_path / "b", callbacks=[StopAfterTwo()])
    assert first.status == "stopped" and first.epochs_done == 2
    resumed = lnb.train(recipe, progress=False, out=tmp_path / "c", resume=first.dir)
    assert resumed.status == "completed" and resumed.epochs_done == 4
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.allclose(a[k].float(), b[k].float(), atol=1e-6) for k in a)
    assert resumed.history.length("batch_loss") == straight.history.length("batch_loss")


def test_resume_keeps_early_stopping_state(tmp_path):
    # train_loss with a huge min_delta never "improves" after epoch 1: patience 3 stops after epoch 4
    recipe = tiny_recipe(train__epochs=10).updated({"train.early_stopping": {
        "enabled": True, "monitor": "train_loss", "patience": 3, "min_delta": 100.0}})
    straight = lnb.train(recipe, progress=False, out=tmp_path / "a")
    assert straight.status == "early_stopped" and straight.epochs_done == 4

    class StopAfterTwo:
        def attach(self, trainer):
            trainer.events.subscribe(lambda e: e.epoch == 1 and trainer.control.stop(), EpochEnd)

    first = lnb.train(recipe, progress=False, out=tmp_path / "b", callbacks=[StopAfterTwo()])
    assert first.epochs_done == 2
    resumed = lnb.train(recipe, progress=False, out=tmp_path / "c", resume=first.dir)
    assert resumed.status == "early_stopped" and resumed.epochs_done == 4  # patience went on counting
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_resume_refuses_a_checkpoint_without_optimizer_state(tmp_path):
    first = lnb.train(tiny_recipe(), progress=False, out=tmp_path / "a")
    with pytest.raises(CheckpointError, match="resume: 'checkpoint' — holds weights only"):
        lnb.train(tiny_recipe(), progress=False, out=None, resume=first.dir / "checkpoints" / "best.pt")
    with pytest.raises(CheckpointError, match="does not fit this recipe's model"):
        lnb.train(tiny_recipe(model__width=12), progress=False, out=None, resume=first.dir)


def test_early_stopping_stops_and_restores_best():
    recipe = tiny_recipe(train__epochs=40, train__lr=0.02, train__scheduler="none")
    recipe = recipe.updated({"train.early_stopping": {"enabled": True, "monitor": "val_loss", "patience": 1,
                                                     "min_delta": 0.5}})
    run = lnb.train(recipe, progress=False, out=None)
    assert run.status == "early_stopped" and run.epochs_done < 40
    assert run.best_epoch is not None


@pytest.mark.parametrize("scheduler", ["none", "step", "cosine", "one_cycle", "warmup_cosine"])
def test_schedulers_shape_the_learning_rate(scheduler):
    trainer = make_trainer(tiny_recipe(train__scheduler=scheduler, train__epochs=3, train__step_size=1))
    trainer.fit()
    _, lr = trainer.history.series("lr")
    peak = trainer.cfg.lr
    if scheduler == "none":
        assert set(lr.tolist()) == {peak}
    elif scheduler == "step":
        assert lr[-1] == pytest.approx(peak * 0.01)
    else:
        assert lr.max() <= peak * 1.0001 and lr[-1] < peak * 0.05
    if scheduler in ("one_cycle", "warmup_cosine"):
        assert lr[0] < peak * 0.1  # warms up


def test_grad_accumulation_steps_the_optimizer_less_often():
    trainer = make_trainer(tiny_recipe(train__grad_accumulation=4, train__scheduler="cosine", train__epochs=1))
    trainer.fit()
    assert trainer.optimizer.state_dict()["state"][0]["step"] == trainer.steps_per_epoch == 2  # 8 batches / 4
    assert trainer.scheduler.last_epoch == 2


def test_grad_clip_and_bf16_run_on_cpu():
    trainer = make_trainer(tiny_recipe(train__grad_clip=0.5, train__mixed_precision="bf16", train__epochs=1))
    assert trainer.fit() == "completed"
    assert trainer.amp_dtype == torch.bfloat16


def test_error_in_custom_model_is_raised_and_recorded(tmp_path):
    class Broken(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(3, 2)

        def forward(self, x):
            return self.lin(x)  # wrong input size for 8x8 digits

    recipe = tiny_recipe()
    data = lnb.build_data(recipe)
    from lepton_nb.workflows.fit import make_trainer as mk

    trainer = mk(recipe, data, model=Broken(), folder=RunFolder(tmp_path))
    ends = []
    trainer.events.subscribe(lambda e: ends.append(e.status), FitEnd)
    with pytest.raises(RuntimeError):
        trainer.fit()
    assert trainer.status == "error" and ends == ["error"] and "mat1 and mat2" in trainer.message
    assert "Traceback" in trainer.traceback and (tmp_path / "history.json").exists()


def test_hot_loop_skips_events_nobody_listens_to():
    trainer = make_trainer(tiny_recipe(train__epochs=1))
    assert not trainer.events.wants(BatchEnd)
    unsubscribe = trainer.events.subscribe(lambda e: None, BatchEnd)
    assert trainer.events.wants(BatchEnd) and not trainer.events.wants(EpochStart)
    unsubscribe()
    assert not trainer.events.wants(BatchEnd)


def test_events_arrive_in_order_with_snake_case_hooks():
    trainer = make_trainer(tiny_recipe(train__epochs=1))
    seen = []

    class Recorder(Callback):
        def on_fit_start(self, event):
            seen.append("fit_start")

        def on_epoch_start(self, event):
            seen.append("epoch_start")

        def on_epoch_end(self, event):
            seen.append("epoch_end")

        def on_fit_end(self, event):
            seen.append("fit_end")

    Recorder().attach(trainer)
    trainer.fit()
    assert seen == ["fit_start", "epoch_start", "epoch_end", "fit_end"]
    assert [hook_name(t) for t in (FitStart, EpochEnd, ErrorEvent)] == ["on_fit_start", "on_epoch_end", "on_error"]
