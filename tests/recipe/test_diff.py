"""Labels naming what differs between recipes."""

from hypothesis import given, settings
from hypothesis import strategies as st

import lepton_nb as lnb
from lepton_nb.recipe.diff import differences, flatten


def test_labels_name_only_the_differing_settings():
    a = lnb.Recipe.default()
    b = a.updated({"train.lr": 0.0005, "name": "other"})
    c = a.updated({"train.lr": 0.001, "model.width": 16, "data.seed": 3, "train.seed": 4})
    assert differences([a, b]) == [f"lr={a.train.lr:g}", "lr=0.0005"]
    labels = differences([a, c])
    assert labels[1] == "data.seed=3, width=16, lr=0.001, +1 more"  # ambiguous names keep their section
    assert differences([a, a.updated({"name": "same"})]) == ["", ""]


def test_lists_are_shown_short():
    a = lnb.Recipe.default()
    b = a.updated({"augment.ops": []})
    assert differences([a, b])[1] == "ops=[]"
    assert len(differences([b, a])[1]) <= len("ops=") + 22


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(1e-5, 1.0, allow_nan=False), min_size=2, max_size=5, unique=True))
def test_distinct_learning_rates_get_distinct_labels(lrs):
    recipes = [lnb.Recipe.default().updated({"train.lr": lr}) for lr in lrs]
    labels = differences(recipes)
    assert len(labels) == len(recipes) and all(label.startswith("lr=") for label in labels)
    assert all(float(label[3:]) == float(f"{lr:g}") for label, lr in zip(labels, lrs))


def test_flatten():
    assert flatten({"a": {"b": 1, "c": {"d": [1]}}, "e": 2}) == {"a.b": 1, "a.c.d": [1], "e": 2}


def test_settings_that_cannot_change_training_are_left_out_of_curve_labels():
    from lepton_nb.recipe.diff import NO_EFFECT_ON_TRAINING

    a = lnb.Recipe.default()
    b = a.updated({"evaluate.cv_folds": 3, "evaluate.metrics": ["accuracy"], "interpret.probes": 4,
                   "train.checkpoint": False, "search.trials": 3})
    assert differences([a, b])[1].startswith("checkpoint=False, metrics=")  # a plain comparison names them
    assert differences([a, b], ignore=NO_EFFECT_ON_TRAINING) == ["", ""]  # they train alike
    c = b.updated({"train.lr": 0.01})
    assert differences([a, c], ignore=NO_EFFECT_ON_TRAINING)[1] == "lr=0.01"
    assert {"name", "evaluate", "interpret", "search", "train.checkpoint"} <= set(NO_EFFECT_ON_TRAINING)
    assert "train.lr" not in NO_EFFECT_ON_TRAINING and "pretrain" not in NO_EFFECT_ON_TRAINING
