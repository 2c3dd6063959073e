"""Run names are checked when the recipe is validated: they name run folders, so nothing that could leave
``--out`` or break a file system gets as far as a folder."""

import pytest

from lepton_nb.errors import RecipeError
from lepton_nb.recipe import Recipe

BAD_NAMES = ["../../x", "/tmp/abs", "a/b", "..", ".hidden", "a\x00b", "a" * 101, "é" * 60, "tab\tname", "", " x"]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_run_names_are_recipe_errors_naming_the_field(name):
    with pytest.raises(RecipeError) as info:
        Recipe.default().updated(name=name)
    (problem,) = info.value.problems
    assert problem.field == "name" and "letters, digits" in problem.allowed
    assert len(str(info.value)) < 400


def test_validate_calls_the_run_name_check():
    recipe = Recipe.default()
    recipe.name = "../outside"  # set directly, bypassing updated()
    assert [p.field for p in recipe.validate()] == ["name"]
    with pytest.raises(RecipeError, match="name"):
        recipe.check()


def test_good_names_pass():
    for name in ("run", "digits-cnn", "a.b_c-1", "x" * 100):
        assert Recipe.default().updated(name=name).name == name


def test_an_empty_or_blank_key_is_shown_quoted_not_as_a_blank_field():
    with pytest.raises(RecipeError) as info:
        Recipe.from_dict({"": 1, "train": {" ": 2}, "augment": {"ops": [{"op": "rotation", "": 3}]}})
    fields = [p.field for p in info.value.problems]
    assert sorted(fields) == ['""', 'augment.ops[0].""', 'train." "']



def test_a_made_up_name_says_which_data_and_model():
    from lepton_nb.recipe.names import default_name, made_up_names, name_problem

    assert default_name("digits", "cnn") == "digits-cnn"  # the preset's own name
    assert default_name("text_tsv", "text_bow") == "sentiment-bow"
    assert default_name("csv", "tabular_mlp") == "csv-tabular-mlp"
    assert name_problem(default_name("image_folder", "resnet18")) is None
    assert {"run", "digits-cnn", "wine-mlp"} <= made_up_names()
