"""A run's plan: its inputs are resolved once before it starts, and everything that trains reads the plan."""

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.errors import CheckpointError
from lepton_nb.workflows.plan import RunOptions, plan_run
from tests.conftest import tiny_recipe


def fine_tune(run, **changes):
    return tiny_recipe(**{"model.init_from": str(run.dir), "model.freeze": "features", **changes})


def test_the_lr_finder_probes_the_model_start_trains(digits_run):
    recipe = fine_tune(digits_run, **{"train.epochs": 1})
    started = lnb.train(recipe, out=None, progress=False, report=False)
    probe = lnb.lr_find(recipe, steps=20)
    trains = started.extras["parameters"]["trainable"]
    assert trains < started.extras["parameters"]["total"]  # the features are frozen
    assert probe.trainable == trains  # not every weight of a fresh model
    fresh = lnb.lr_find(tiny_recipe(), steps=20)
    assert fresh.trainable == started.extras["parameters"]["total"]
    # it starts from the source's trained weights (features and head): a lower loss than a random model's
    assert probe.losses[0] < fresh.losses[0]


def test_the_lr_finder_probes_adapters_and_frozen_parts_as_start_does(digits_run):
    recipe = fine_tune(digits_run, **{"model.adapter.kind": "lora", "model.adapter.r": 2,
                                      "model.freeze": "all_but_adapters", "train.epochs": 1})
    started = lnb.train(recipe, out=None, progress=False, report=False)
    assert lnb.lr_find(recipe, steps=12).trainable == started.extras["parameters"]["trainable"]


def test_a_missing_source_is_refused_before_a_run_folder_is_made(tmp_path):
    recipe = tiny_recipe(**{"model.init_from": str(tmp_path / "gone")})
    with pytest.raises(CheckpointError, match="model.init_from"):
        plan_run(recipe, RunOptions(out=tmp_path / "runs"))
    assert not (tmp_path / "runs").exists()


def test_the_plan_reads_the_source_once_and_the_model_is_built_from_it(digits_run, monkeypatch):
    from lepton_nb.artifacts import init_source

    opened = []
    real = init_source.load_checkpoint
    monkeypatch.setattr(init_source, "load_checkpoint", lambda *a, **k: opened.append(a) or real(*a, **k))
    plan = plan_run(fine_tune(digits_run), RunOptions(out=None))
    first, report = plan.build_model()
    second, _ = plan.build_model()
    assert len(opened) == 1 and report.loaded == ["features", "head"] and report.frozen == ["features"]
    source = digits_run.model.state_dict()
    assert all(torch.equal(source[k].cpu(), v) for k, v in first.state_dict().items())
    assert all(torch.equal(a, b) for a, b in zip(first.state_dict().values(), second.state_dict().values()))


def test_adversarial_training_is_a_batch_step_of_the_plan():
    from lepton_nb.robust import Adversary

    plan = plan_run(tiny_recipe(**{"train.adversarial.method": "fgsm_rs"}), RunOptions(out=None))
    trainer = plan.trainer(plan.build_model()[0])
    assert [type(s) for s in trainer.steps] == [Adversary]
    plain = plan_run(tiny_recipe(), RunOptions(out=None))
    assert plain.trainer(plain.build_model()[0]).steps == []
