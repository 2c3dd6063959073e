"""Observers only watch: one that raises is logged and detached and the run goes on. A callback changes
training: one that raises ends the run with its traceback."""

import logging

import pytest

from lepton_nb.training.callbacks import Callback
from lepton_nb.training.events import BatchEnd, EpochEnd, EventBus, FitEnd
from tests.training.test_trainer import make_trainer


def test_a_failing_observer_is_detached_and_training_completes(caplog):
    trainer = make_trainer()
    calls = []

    def broken_view(event):
        calls.append(event.global_step)
        raise ValueError("view bug")

    ends = []
    trainer.events.subscribe(broken_view, BatchEnd)
    trainer.events.subscribe(lambda e: ends.append(e.status), FitEnd)
    with caplog.at_level(logging.WARNING, logger="lepton_nb"):
        assert trainer.fit() == "completed"
    assert calls == [1]  # called once, then detached
    assert ends == ["completed"] and trainer.epoch == trainer.cfg.epochs
    assert [f.message for f in trainer.events.failures] == ["ValueError: view bug"]
    assert "Traceback" in trainer.events.failures[0].traceback and "view bug" in caplog.text


def test_a_failing_callback_ends_the_run_as_an_error():
    trainer = make_trainer()

    class Broken(Callback):
        def on_epoch_end(self, event: EpochEnd) -> None:
            raise RuntimeError("callback bug")

    Broken().attach(trainer)
    with pytest.raises(RuntimeError, match="callback bug"):
        trainer.fit()
    assert trainer.status == "error" and "callback bug" in trainer.traceback


def test_a_callback_can_be_detached():
    trainer = make_trainer()
    seen = []

    class Counter(Callback):
        def on_epoch_end(self, event: EpochEnd) -> None:
            seen.append(event.epoch)
            self.detach()

    Counter().attach(trainer)
    trainer.fit()
    assert seen == [0]


def test_unsubscribed_observers_stop_receiving_events():
    bus = EventBus()
    got = []
    unsubscribe = bus.subscribe(got.append, FitEnd)
    bus.emit(FitEnd("completed", 1, 0.1))
    unsubscribe()
    bus.emit(FitEnd("completed", 1, 0.1))
    assert len(got) == 1 and not bus.wants(FitEnd)
