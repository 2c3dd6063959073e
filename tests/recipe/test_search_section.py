"""The recipe's search section: distributions checked against the searched field's own metadata."""

import json

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lepton_nb.errors import RecipeError
from lepton_nb.recipe import KINDS, Recipe, check_space_for_search, searchable_fields

FIELDS = searchable_fields(Recipe)


def problems_of(changes):
    with pytest.raises(RecipeError) as info:
        Recipe.default().updated(changes)
    return {p.field: p for p in info.value.problems}


def test_a_valid_space_round_trips_through_json():
    space = {"train.lr": {"log_uniform": [1e-4, 1e-1]}, "model.width": {"choice": [16, 32, 64]},
             "train.weight_decay": {"uniform": [0, 0.1]}, "model.depth": {"int": [1, 4]},
             "train.optimizer": {"choice": ["adam", "adamw"]}}
    r = Recipe.default().updated({"search.space": space, "search.trials": 30, "search.sampler": "random"})
    assert r.search.space == space and r.search.trials == 30
    assert Recipe.from_json(r.to_json()) == r
    assert check_space_for_search(r.search) == []


def test_default_recipe_has_an_empty_space_that_a_search_refuses():
    (problem,) = check_space_for_search(Recipe.default().search)
    assert problem.field == "search.space" and "at least one field" in problem.allowed


def test_range_outside_the_field_names_both():
    p = problems_of({"search.space": {"train.lr": {"log_uniform": [1e-9, 0.1]}}})["search.space.train.lr"]
    assert "1e-09" in p.allowed and "1e-07" in p.allowed and "train.lr" in p.allowed


def test_unknown_field_suggests_the_close_one():
    p = problems_of({"search.space": {"model.widht": {"choice": [8, 16]}}})["search.space.model.widht"]
    assert "did you mean 'model.width'" in p.allowed


def test_wrong_kind_for_the_field():
    p = problems_of({"search.space": {"model.depth": {"uniform": [1, 3]}}})["search.space.model.depth"]
    assert "whole-number" in p.allowed and "int or log_int or choice" in p.allowed


def test_choice_values_are_checked_like_the_field():
    found = problems_of({"search.space": {"model.arch": {"choice": ["cnn", "resnte"]}}})
    assert "did you mean 'resnet'" in found["search.space.model.arch.choice[1]"].allowed


@pytest.mark.parametrize("changes, field", [
    ({"search.trials": 0}, "search.trials"),
    ({"search.trials": -3}, "search.trials"),
    ({"search.sampler": "bayes"}, "search.sampler"),
    ({"search.pruner": "sometimes"}, "search.pruner"),
    ({"search.cv_folds": 1}, "search.cv_folds"),
    ({"search.space": {"data.seed": {"int": [0, 3]}}}, "search.space.data.seed"),
    ({"search.space": {"train.lr": {"log_uniform": [0, 0.1]}}}, "search.space.train.lr"),
    ({"search.space": {"train.lr": {"uniform": [0.1, 0.01]}}}, "search.space.train.lr"),
    ({"search.space": {"train.lr": [0.1, 0.01]}}, "search.space.train.lr"),
    ({"search.space": {"model.width": {"choice": []}}}, "search.space.model.width"),
    ({"search.space": {"model.width": {"int": [1.5, 4]}}}, "search.space.model.width"),
    ({"search.sampler": "grid", "search.space": {"train.lr": {"uniform": [0.01, 0.1]}}}, "search.space.train.lr"),
    ({"search.space": "train.lr"}, "search.space"),
])
def test_bad_input_names_field_value_and_allowed(changes, field):
    p = problems_of(changes)[field]
    assert "allowed" in p.allowed


def distributions(key):
    typ, meta = FIELDS[key]
    if typ is bool:
        return st.just({"choice": [True, False]})
    if typ is str:
        return st.lists(st.sampled_from(meta["choices"]), min_size=1, unique=True).map(lambda v: {"choice": v})
    lo, hi = meta["min"], min(meta["max"], 1e6)
    if typ is int:
        pair = st.tuples(st.integers(int(lo), int(hi)), st.integers(int(lo), int(hi))).filter(lambda p: p[0] < p[1])
        return pair.map(lambda p: {"int": list(p)})
    pair = st.tuples(st.floats(lo, hi), st.floats(lo, hi)).filter(lambda p: p[0] < p[1])
    return pair.map(lambda p: {"uniform": list(p)})


@st.composite
def valid_spaces(draw):
    keys = draw(st.lists(st.sampled_from(sorted(FIELDS)), min_size=1, max_size=5, unique=True))
    return {k: draw(distributions(k)) for k in keys}


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(valid_spaces())
def test_spaces_drawn_from_field_metadata_are_accepted_and_round_trip(space):
    r = Recipe.default().updated({"search.space": space})
    assert Recipe.from_json(r.to_json()).search.space == json.loads(json.dumps(space))


anything = st.recursive(st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6),
                        lambda c: st.lists(c, max_size=3) | st.dictionaries(st.sampled_from([*KINDS, "x"]), c,
                                                                             max_size=2), max_leaves=8)


@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.sampled_from([*sorted(FIELDS)[:8], "nope", "data.seed", ""]), anything, max_size=3),
       st.dictionaries(st.sampled_from(["trials", "timeout", "sampler", "pruner", "cv_folds", "objective"]),
                       anything, max_size=3))
def test_any_search_section_is_accepted_or_named(space, rest):
    try:
        Recipe.from_dict({"search": {"space": space, **rest}})
    except RecipeError as exc:
        assert exc.problems and all(p.field.startswith("search") for p in exc.problems)


def test_the_pruning_note_says_when_the_warm_up_leaves_the_pruner_nothing_to_stop():
    from lepton_nb.recipe import pruning_note

    section = Recipe.default().updated({"search.warmup_epochs": 2}).search
    assert pruning_note(section, 8) == ""  # epochs 2..7 may be pruned
    note = pruning_note(section, 2)
    assert "never stops a trial" in note and "search.warmup_epochs is 2" in note and "2 epochs" in note
    assert pruning_note(Recipe.default().updated({"search.warmup_epochs": 2, "search.pruner": "none"}).search, 2) == ""
    searched = Recipe.default().updated({"search.warmup_epochs": 4,
                                         "search.space": {"train.epochs": {"int": [2, 6]}}}).search
    assert pruning_note(searched, 3) == ""  # a trial may train up to 6 epochs
    folds = Recipe.default().updated({"search.warmup_epochs": 3, "search.cv_folds": 3}).search
    assert "3 folds" in pruning_note(folds, 50)  # cross-validated trials report once per fold
