"""Choosing samples to look at: the first confusion cell always holds samples, also for a model that gets every
test sample right (the wine preset), and every tab that picks samples explains or attacks them without an error."""

from types import SimpleNamespace

import numpy as np
import pytest
import torch

import lepton_nb as lnb
from lepton_nb.evaluation.metrics import evaluate_logits
from lepton_nb.models import build_model
from lepton_nb.ui.forms import RecipeForm
from lepton_nb.ui.panels.evaluate import EvaluatePanel
from lepton_nb.ui.panels.interpret import InterpretPanel
from lepton_nb.ui.panels.samples import SamplePicker, first_cell
from lepton_nb.ui.render import BUSY
from tests.ui.conftest import settle


@pytest.fixture(scope="module")
def perfect_run():
    """A wine run whose every test prediction is right (what the wine preset reaches), its loss varying."""
    recipe = lnb.Recipe.preset("wine")
    data = lnb.build_data(recipe)
    y = data.labels("test")
    logits = torch.nn.functional.one_hot(y, len(data.classes)).float() * torch.linspace(1, 4, len(y))[:, None]
    ev = evaluate_logits(logits, y, data.classes)
    assert len(ev.misclassified()) == 0
    model = build_model(recipe.model, data.spec(), seed=0).eval()
    return SimpleNamespace(name="wine-mlp", status="completed", recipe=recipe, data=data, model=model,
                           evaluation=ev, history=lnb.History(), metrics={"accuracy": 1.0})


def test_with_nothing_misclassified_the_first_cell_holds_the_least_sure_correct_samples(perfect_run):
    ev = perfect_run.evaluation
    true, pred = first_cell(ev)
    assert true == pred and len(ev.cell(true, pred)) > 0
    assert int(np.argmax(ev.losses)) in ev.cell(true, pred)  # the sample the model was least sure of


def test_a_model_with_errors_starts_on_its_largest_error_cell():
    y = torch.tensor([0, 0, 0, 1, 1, 2])
    logits = torch.eye(3)[[1, 1, 0, 1, 2, 2]] * 3
    assert first_cell(evaluate_logits(logits, y, ["a", "b", "c"])) == (0, 1)


@pytest.mark.parametrize("limit, per_cell", [(16, 8), (8, 6)])  # Interpret's picker, Robustness's picker
def test_the_default_pick_on_a_perfect_model_gives_samples(perfect_run, limit, per_cell):
    picker = SamplePicker(lambda: [], limit=limit, per_cell=per_cell)  # Evaluation never shown: nothing selected
    split, idx = picker.chosen(perfect_run)
    assert split == "test" and 0 < len(idx) <= per_cell
    assert all(perfect_run.evaluation.y_true[i] == perfect_run.evaluation.y_pred[i] for i in idx)


def test_an_empty_cell_picked_by_hand_is_said_in_plain_words(perfect_run):
    picker = SamplePicker(lambda: [0, 1])
    with pytest.raises(ValueError) as err:
        picker.chosen(perfect_run)
    text = str(err.value)
    assert "holds no test samples" in text and "class_0" in text and "test indices" in text


def context(run):
    return SimpleNamespace(form=RecipeForm(run.recipe), selected_cell=lambda: [], runs=[run])


def test_the_default_explain_works_on_a_perfect_model(perfect_run):
    panel = InterpretPanel(context(perfect_run))
    panel.show_run(perfect_run)
    steps = panel.params["n_steps"]
    assert steps.description == "steps" and "technical name: n_steps" in steps.tooltip  # plain words first
    assert panel.source.value == "cell"  # the default
    assert panel.explain(), panel.status.value
    assert BUSY in panel.image._dom_classes  # dimmed by a class the browser gets (a synced trait)
    settle(panel.task, timeout=60)
    assert panel.image.value[:4] == b"\x89PNG" and "lnb-error" not in panel.status.value
    assert BUSY not in panel.image._dom_classes


def test_the_evaluation_tab_dims_the_old_samples_while_the_new_ones_render(perfect_run, monkeypatch):
    import lepton_nb.ui.panels.evaluate as evaluate_module

    panel = EvaluatePanel(context(perfect_run))
    seen = []
    real = evaluate_module.sample_view

    def watch(*args, **kwargs):
        seen.append((BUSY in panel.cell_png._dom_classes, "loading…" in panel.cell_title.value))
        return real(*args, **kwargs)

    monkeypatch.setattr(evaluate_module, "sample_view", watch)
    panel.show_run(perfect_run)
    assert panel.confusion.selected == list(first_cell(perfect_run.evaluation))
    assert (True, True) in seen  # dimmed while the gallery rendered
    assert BUSY not in panel.cell_png._dom_classes and "<table" in panel.cell_html.value  # wine: table rows
    assert "No test sample is misclassified" in panel.cell_title.value
