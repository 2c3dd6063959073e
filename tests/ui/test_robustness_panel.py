"""The Robustness tab: attack chosen samples, measure and compare curves, start adversarial training."""

import json

import pytest

from lepton_nb.ui.panels.robustness import parse_eps
from tests.conftest import HANG_S
from tests.ui.conftest import settle


@pytest.fixture
def trained(studio):
    studio.update({"train.epochs": 2})
    assert studio.start() and studio.wait(HANG_S)
    return studio


def test_attack_shows_original_perturbation_adversarial_and_attributions(trained):
    panel = trained.robustness_panel
    assert panel.run is trained.run
    panel.picker.source.value = "indices"
    panel.picker.indices.value = "0, 1, 2"
    panel.method.value, panel.eps.value, panel.steps.value = "pgd", 0.3, 10
    assert panel.attack()
    settle(panel.task)
    result = panel.result
    assert len(result) == 3 and list(result.indices) == [0, 1, 2]
    assert float((result.adversarial - result.inputs).abs().max()) <= 0.3 + 1e-6
    assert float(result.adversarial.min()) >= 0 and float(result.adversarial.max()) <= 1
    assert panel.image.value[:4] == b"\x89PNG" and panel.attr_image.value[:4] == b"\x89PNG"
    assert "ε = 0.3" in panel.status.value and "accuracy" in panel.status.value


def test_bad_attack_input_is_one_clear_message(trained):
    panel = trained.robustness_panel
    panel.picker.source.value = "indices"
    panel.picker.indices.value = "0, 99999"
    assert not panel.attack() and "allowed" in panel.status.value and "99999" in panel.status.value
    panel.picker.indices.value = "0"
    panel.eps.value = 5.0
    assert panel.attack()
    settle(panel.task)
    assert "eps" in panel.status.value and "allowed for pgd: a number from 0 to 1" in panel.status.value
    assert "Traceback" not in panel.status.value
    panel.eps_list.value = "0, a lot"
    assert not panel.measure() and "ε values" in panel.curve_status.value


def test_curve_is_measured_saved_and_compared(trained):
    panel = trained.robustness_panel
    panel.eps_list.value = "0, 0.1, 0.3"
    panel.samples.value = 60
    assert panel.measure()
    assert not trained.start() and "robustness curve" in trained.monitor.message  # one CPU job at a time
    settle(panel.curve_task, timeout=HANG_S)
    run = trained.run
    assert panel.curve.eps == [0.0, 0.1, 0.3] and panel.curve.n == 60
    assert json.loads((run.dir / "robustness.json").read_text())["eps"] == [0.0, 0.1, 0.3]
    assert panel.compare.value == (len(trained.runs) - 1,)
    assert panel.curve_image.value[:4] == b"\x89PNG" and "Sanity checks" in panel.checks.value
    assert trained.start() and trained.wait(HANG_S)  # the job lock was released
    second = trained.run
    assert "robustness" not in second.extras and panel.run is second


def test_adversarial_training_starts_from_the_current_recipe(trained):
    panel = trained.robustness_panel
    panel.eps.value, panel.train_method.value = 0.1, "fgsm_rs"
    assert panel.train_adversarially()
    assert trained.recipe.train.adversarial.method == "fgsm_rs" and trained.recipe.train.adversarial.eps == 0.1
    assert "val_robust_accuracy" in json.dumps(trained.monitor.panels)
    assert trained.wait(HANG_S)
    run = trained.run
    assert run.recipe.train.adversarial.method == "fgsm_rs"
    assert run.history.last("val_robust_accuracy") is not None
    assert panel.train_adversarially()  # and again: the next run
    assert not panel.train_adversarially() and "already" in panel.train_status.value  # one run at a time
    trained.stop()
    trained.wait(HANG_S)


def test_parse_eps():
    assert parse_eps("0, 0.05 0.1") == [0.0, 0.05, 0.1]
    for bad in ("", "x", " ".join(["0.1"] * 21)):
        with pytest.raises(ValueError, match="allowed"):
            parse_eps(bad)
