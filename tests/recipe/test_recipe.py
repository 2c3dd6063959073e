import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_nb.recipe import AUGMENT_OPS, PRESETS, SECTIONS, Recipe, RecipeError, default_op, describe_fields


def test_default_is_valid_and_uses_bundled_digits():
    r = Recipe.default()
    assert r.validate() == []
    assert r.data.source == "digits" and r.model.arch == "cnn"
    for key in ("data.source", "data.root", "data.download", "train.epochs", "train.lr", "train.batch_size",
                "model.arch"):
        r.get(key)  # the key names users rely on exist


@pytest.mark.parametrize("name", list(PRESETS))
def test_every_preset_is_valid(name):
    assert Recipe.preset(name).validate() == []


def _changed_everywhere() -> Recipe:
    """A recipe with a non-default value in every section, augment ops included."""
    return Recipe.default().updated({
        "name": "everything",
        "data.source": "mnist", "data.root": "/data", "data.download": True, "data.official_split": "test",
        "data.val_fraction": 0.15, "data.test_fraction": 0.25, "data.limit": 500, "data.seed": 3,
        "data.clean.dedupe": False, "data.clean.missing": "median",
        "normalize.method": "explicit", "normalize.mean": [0.13], "normalize.std": [0.31],
        "augment.enabled": False, "augment.ops": [default_op("rotation"), {"op": "random_crop", "padding": 3}],
        "model.arch": "resnet", "model.width": 12, "model.depth": 3, "model.dropout": 0.3,
        "train.optimizer": "nesterov", "train.lr": 0.05, "train.batch_size": 32, "train.epochs": 7,
        "train.scheduler": "warmup_cosine", "train.grad_clip": 1.5, "train.grad_accumulation": 2,
        "train.early_stopping": {"enabled": True, "monitor": "val_accuracy", "patience": 2, "mode": "max",
                                 "min_delta": 0.001},
        "train.mixed_precision": "bf16", "train.seed": 9, "train.device": "cpu",
        "evaluate.metrics": ["accuracy", "f1_macro"], "evaluate.cv_folds": 3, "evaluate.top_losses": 4,
    })


def test_round_trip_dict_json_and_file_over_every_section(tmp_path):
    r = _changed_everywhere()
    assert set(r.to_dict()) == {"name", *SECTIONS}
    assert Recipe.from_dict(r.to_dict()) == r
    assert Recipe.from_json(r.to_json()) == r
    assert Recipe.from_file(r.to_file(tmp_path / "r.json")) == r
    assert Recipe.from_file(r.to_file(tmp_path / "r.yaml")) == r
    assert Recipe.from_dict(json.loads(json.dumps(r.to_dict()))) == r


def test_partial_dict_keeps_defaults():
    r = Recipe.from_dict({"train": {"lr": 0.01}})
    assert r.train.lr == 0.01 and r.train.epochs == Recipe().train.epochs


def test_validation_collects_every_problem_with_field_value_and_allowed():
    with pytest.raises(RecipeError) as info:
        Recipe.from_dict({"train": {"lr": -1, "batch_size": 0, "optimizer": "adamm"},
                          "model": {"arch": "cnn", "dropout": 2}, "data": {"sourse": "digits"}})
    text = str(info.value)
    fields = [p.field for p in info.value.problems]
    assert set(fields) == {"train.lr", "train.batch_size", "train.optimizer", "model.dropout", "data.sourse"}
    assert "train.lr: -1 — allowed: a number from 1e-07 to 10" in text
    assert "did you mean 'adam'?" in text or "did you mean 'adamw'?" in text
    assert "data.sourse" in text and "did you mean 'source'?" in text
    assert text.startswith("5 problems in the recipe")


def test_cross_field_problems_are_reported():
    with pytest.raises(RecipeError) as info:
        Recipe.from_dict({"data": {"source": "text_tsv"}, "model": {"arch": "cnn"},
                          "augment": {"ops": [{"op": "rotation"}]}})
    fields = {p.field for p in info.value.problems}
    assert {"model.arch", "data.path", "augment.ops[0].op"} <= fields
    assert "allowed: text_bow, text_cnn, text_bilstm" in str(info.value)


def test_augment_op_parameters_are_validated():
    with pytest.raises(RecipeError) as info:
        Recipe.from_dict({"augment": {"ops": [{"op": "rotate"}, {"op": "rotation", "degree": 5},
                                              {"op": "random_crop", "padding": 2.5}]}})
    text = str(info.value)
    assert "did you mean 'rotation'?" in text
    assert "augment.ops[1].degree" in text and "did you mean 'degrees'?" in text
    assert "augment.ops[2].padding: 2.5 — allowed: a whole number" in text


def test_ops_get_default_parameters():
    r = Recipe.from_dict({"augment": {"ops": [{"op": "affine"}]}})
    assert r.augment.ops[0] == default_op("affine")
    assert set(AUGMENT_OPS["affine"].params) <= set(r.augment.ops[0])


def test_types_are_strict():
    with pytest.raises(RecipeError) as info:
        Recipe.from_dict({"train": {"epochs": "10", "checkpoint": "yes"}, "data": {"download": 1}})
    assert {p.field for p in info.value.problems} == {"train.epochs", "train.checkpoint", "data.download"}


def test_updated_and_get_use_dotted_keys():
    r = Recipe.default().updated({"train.lr": 0.02}, model__width=8)
    assert r.get("train.lr") == 0.02 and r.model.width == 8
    with pytest.raises(RecipeError, match="did you mean 'epochs'"):
        r.updated({"train.epoch": 3})


def test_unreadable_file_and_bad_json_raise_recipe_error(tmp_path):
    with pytest.raises(RecipeError, match="cannot be read"):
        Recipe.from_file(tmp_path / "missing.json")
    (tmp_path / "bad.json").write_text("{oops")
    with pytest.raises(RecipeError, match="not valid JSON"):
        Recipe.from_file(tmp_path / "bad.json")


def test_field_metadata_describes_forms():
    rows = {r["name"]: r for r in describe_fields(Recipe().train)}
    assert rows["lr"]["log"] is True and rows["lr"]["min"] > 0
    assert "adamw" in rows["optimizer"]["choices"]
    assert rows["epochs"]["help"]


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-10**6, 10**6) | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=12,
)
keys = st.sampled_from(["name", "data", "normalize", "augment", "model", "train", "evaluate", "bogus"])
section_keys = st.sampled_from(["source", "lr", "epochs", "ops", "arch", "method", "mean", "metrics", "clean",
                                "early_stopping", "official_split", "batch_size", "x"])


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(keys, st.dictionaries(section_keys, json_values, max_size=4) | json_values, max_size=5))
def test_random_input_raises_only_recipe_error(data):
    try:
        r = Recipe.from_dict(data)
    except RecipeError as exc:
        assert exc.problems and all(str(p) for p in exc.problems)
    else:
        assert r.validate() == []


@settings(max_examples=100, deadline=None)
@given(json_values)
def test_any_json_document_raises_only_recipe_error(data):
    try:
        r = Recipe.from_dict(data)
    except RecipeError as exc:
        assert exc.problems
    else:
        assert r.validate() == []


def test_nesterov_without_momentum_is_refused_before_training():
    with pytest.raises(RecipeError, match="train.momentum: 0.0 — Nesterov momentum needs momentum > 0"):
        Recipe.default().updated({"train.optimizer": "nesterov", "train.momentum": 0.0})
    assert Recipe.default().updated({"train.optimizer": "momentum", "train.momentum": 0.0}).train.momentum == 0
