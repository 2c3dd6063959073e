"""`lnb.exercises.check`: never raises, the same named checks from the first run on, hints that point the right way,
and a machine-readable result the autograder collects."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

import lepton_nb as lnb
from lepton_nb.tools.exercises import EXERCISES, MIME, check
from lepton_nb.training.history import History
from tests.conftest import tiny_recipe


def fake_run(lr: float = 0.003, accuracy: float = 0.97, status: str = "completed", **recipe) -> SimpleNamespace:
    """What a check reads of a run, without training one."""
    r = lnb.Recipe.default().updated({"train.lr": lr, **recipe})
    h = History()
    h.log_epoch({"epoch": 0, "step": 10, "train_loss": 0.5, "val_loss": 0.4, "val_accuracy": accuracy})
    return SimpleNamespace(recipe=r, history=h, status=status, message="", metrics={"accuracy": accuracy},
                           evaluation=None, name="fake", seconds=1.0, data=None)


def finder(suggestion: float | None = 0.003) -> SimpleNamespace:
    return SimpleNamespace(lrs=[1e-5 * 1.1 ** i for i in range(60)], losses=[1.0] * 60, suggestion=suggestion)


class Exploding:
    """An answer whose every attribute access raises (a half-made object)."""

    def __getattr__(self, name):
        raise RuntimeError(f"no {name}")


JUNK = [None, 0, "x", [], object(), Exploding(), lnb.Recipe.default()]


@pytest.mark.parametrize("name", list(EXERCISES))
@pytest.mark.parametrize("junk", JUNK, ids=lambda j: type(j).__name__)
def test_check_never_raises_and_lists_every_declared_check(name, junk):
    ex = EXERCISES[name]
    empty = check(name)
    for fb in (empty, check(name, junk), check(name, *[junk] * len(ex.answers)),
               check(name, **{a: junk for a in ex.answers})):
        assert [p.name for p in fb.points] == list(ex.checks)  # same checks, same order, from the first run on
        assert not fb.passed and "not yet" in fb.headline()
    assert "not checked yet" in str(empty)


def test_positional_answers_bind_in_the_exercises_order():
    result, chosen, run = finder(0.003), lnb.Recipe.default().updated({"train.lr": 0.01}), fake_run(0.01)
    by_position = check("lr_finder", result, chosen, run)  # raised TypeError before
    by_name = check("lr_finder", result=result, recipe=chosen, run=run)
    assert [(p.name, p.passed, p.text) for p in by_position.points] == [(p.name, p.passed, p.text)
                                                                         for p in by_name.points]
    assert by_position.passed and by_position.note == ""


def test_call_problems_are_named_in_a_note_not_raised():
    fb = check("lr_finder", 1, 2, 3, 4)
    assert "4 answers given without names" in fb.note and len(fb.points) == len(EXERCISES["lr_finder"].checks)
    fb = check("augmentation", runn=fake_run())
    assert "unknown answer 'runn'" in fb.note and "run=..." in fb.note
    fb = check("augmentation", fake_run(), run=fake_run())
    assert "given twice" in fb.note
    fb = check("no_such_exercise")
    assert "allowed: augmentation" in str(fb) and not fb.passed


def test_an_answer_the_rules_cannot_read_is_a_note():
    run = fake_run()
    run.recipe = Exploding()  # passes the shape test, breaks on use
    fb = check("augmentation", run=run)
    assert "could not read your answers (RuntimeError" in fb.note
    assert len(fb.points) == len(EXERCISES["augmentation"].checks)
    assert all("see the ⚠ note above" in p.text for p in fb.points if not p.passed)


def hint(fb, name: str) -> str:
    return next(p.text for p in fb.points if p.name == name)


def test_a_diverged_large_lr_is_told_to_go_smaller():
    chosen = lnb.Recipe.default().updated({"train.lr": 0.5})
    fb = check("lr_finder", finder(0.003), chosen, fake_run(0.5, accuracy=0.10))
    text = hint(fb, "accuracy")
    assert "too large" in text and "smaller" in text and "nearby" not in text
    assert "far above" in hint(fb, "near_suggestion")
    # no range test to compare with: chance-level accuracy at a large rate still says smaller
    assert "smaller" in hint(check("lr_finder", None, chosen, fake_run(0.5, accuracy=0.1)), "accuracy")
    assert "diverged" in hint(check("lr_finder", finder(), chosen, fake_run(0.5, 0.3, "diverged")), "accuracy")


def test_a_small_lr_is_told_to_go_larger_and_a_good_one_to_look_nearby():
    tiny_lr = lnb.Recipe.default().updated({"train.lr": 1e-5})
    text = hint(check("lr_finder", finder(0.003), tiny_lr, fake_run(1e-5, accuracy=0.4)), "accuracy")
    assert "too small" in text and "larger" in text
    fine = lnb.Recipe.default().updated({"train.lr": 0.01})
    assert "nearby" in hint(check("lr_finder", finder(0.003), fine, fake_run(0.01, accuracy=0.93)), "accuracy")


def test_the_result_is_machine_readable_with_the_runs_summary():
    run = lnb.train(tiny_recipe(), progress=False, out=None)
    bundle = check("augmentation", run=run)._repr_mimebundle_()
    assert {"text/plain", "text/html", MIME} <= set(bundle)
    result = json.loads(json.dumps(bundle[MIME], allow_nan=False))  # plain JSON, as the notebook stores it
    assert result["exercise"] == "augmentation" and result["total"] == len(EXERCISES["augmentation"].checks)
    assert [c["name"] for c in result["checks"]] == list(EXERCISES["augmentation"].checks)
    assert result["run"]["recipe"]["train"]["epochs"] == 2 and len(result["run"]["epochs"]) == 2
    assert result["run"]["metrics"]["accuracy"] == pytest.approx(run.metrics["accuracy"])
    assert hint(check("augmentation", run=run), "same_data").startswith("keep the data section")
