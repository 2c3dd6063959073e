import dataclasses
import html
import re

import ipywidgets as W

from lepton_nb.recipe import SECTIONS, Recipe
from lepton_nb.ui.forms import RecipeForm
from tests.conftest import tiny_recipe


def leaf_paths(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        path = f"{prefix}{f.name}"
        if dataclasses.is_dataclass(value):
            yield from leaf_paths(value, path + ".")
        else:
            yield path


def test_one_builder_covers_every_recipe_field():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    expected = set(leaf_paths(Recipe.default())) - {"augment.ops"}
    assert set(form.controls()) == expected
    kinds = {path: c.kind for path, c in form.controls().items()}
    assert kinds["train.optimizer"] == "choice" and kinds["train.lr"] == "float"
    assert kinds["train.epochs"] == "int" and kinds["data.download"] == "bool"
    assert kinds["evaluate.metrics"] == "multi" and kinds["normalize.mean"] == "floats"
    assert set(SECTIONS) <= set(form.sections)


def test_values_round_trip_through_the_widgets():
    recipe = tiny_recipe(train__lr=0.02, train__optimizer="nesterov", evaluate__metrics=["accuracy", "f1_macro"])
    recipe = recipe.updated({"normalize.method": "explicit", "normalize.mean": [0.5], "normalize.std": [0.25]})
    form = RecipeForm(recipe)
    assert Recipe.from_dict(form.values()) == recipe


def test_invalid_value_is_shown_inline_and_reported():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    seen = []
    form.on_change(lambda recipe, problems: seen.append((recipe, problems)))
    form.controls()["train.lr"].widget.value = -3.0
    recipe, problems = seen[-1]
    assert recipe is None and [p.field for p in problems] == ["train.lr"]
    lr = form.controls()["train.lr"]
    assert "allowed: a number from 1e-07 to 10" in lr.error.value and lr.error.layout.display == ""
    assert form.recipe == Recipe.default()  # the last valid recipe is kept
    lr.widget.value = 0.01
    recipe, problems = seen[-1]
    assert problems == [] and recipe.train.lr == 0.01 and lr.error.layout.display == "none"


def test_unparsable_number_list_is_a_problem_not_a_crash():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    form.controls()["normalize.method"].widget.value = "explicit"
    form.controls()["normalize.mean"].widget.value = "0.1, abc"
    assert form.validate() is None
    assert any(p.field == "normalize.mean" for p in form.problems)


def test_fields_that_do_not_apply_are_hidden():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    c = form.controls()
    assert c["data.path"].box.layout.display == "none"  # digits reads no file
    assert c["train.step_size"].box.layout.display == "none"  # scheduler is one_cycle
    c["train.scheduler"].widget.value = "step"
    assert c["train.step_size"].box.layout.display == ""
    c["data.source"].widget.value = "csv"
    assert c["data.path"].box.layout.display == "" and c["data.target"].box.layout.display == ""
    assert c["model.embed_dim"].box.layout.display == "none"
    assert c["model.adapter.r"].box.layout.display == "none"  # no adapter
    c["model.adapter.kind"].widget.value = "lora"
    assert c["model.adapter.r"].box.layout.display == "" and c["model.adapter.targets"].box.layout.display == ""


def test_whole_sections_and_the_panel_parts_that_belong_to_them_follow_the_same_rule():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    title = W.HTML("<h4>Normalization</h4>")
    form.follow(title, "normalize")
    assert form.sections["pretrain"].box.layout.display == "none"  # masked-word pretraining: text only
    assert form.sections["normalize"].box.layout.display == "" and title.layout.display == ""
    form.controls()["data.source"].widget.value = "text_tsv"
    assert form.sections["pretrain"].box.layout.display == ""
    assert form.sections["normalize"].box.layout.display == "none" and title.layout.display == "none"  # word ids
    assert form.sections["train"].box.layout.display != "none"  # sections without applies_to always show


def _hover_of(control) -> str:
    return html.unescape(re.search(r'title="([^"]*)"', control.help.value).group(1))


def test_choices_read_as_plain_words_with_the_technical_name_on_hover():
    form = RecipeForm(Recipe.default())
    c = form.controls()
    precision = c["train.mixed_precision"]
    assert "16-bit (bfloat16)" in [label for label, _ in precision.widget.options]
    shown = re.sub(r"<[^>]*>", "", precision.help.value)  # the help's words, not its hover
    assert "bf16" not in precision.widget.description and "bf16" not in shown  # not in what one reads
    assert "16-bit (bfloat16) = bf16" in _hover_of(precision)  # but on hover
    metrics = c["evaluate.metrics"]
    labels = dict((v, label) for label, v in metrics.widget.options)
    assert labels["balanced_accuracy"] == "balanced accuracy" and labels["roc_auc"] == "ROC AUC"
    assert "precision (class mean) = precision_macro" in _hover_of(metrics)
    metrics.set(["accuracy", "roc_auc"])
    assert form.validate().evaluate.metrics == ["accuracy", "roc_auc"]  # the values stay the machine keys
    precision.set("bf16")
    assert form.validate().train.mixed_precision == "bf16"


def test_set_recipe_updates_every_control_and_validates_once():
    form = RecipeForm(Recipe.default(), skip={"augment": ("ops",)})
    calls = []
    form.on_change(lambda r, p: calls.append(r))
    target = Recipe.preset("wine")
    form.add_extra("augment.ops", lambda: [], lambda ops: None)
    form.set_recipe(target)
    assert len(calls) == 1 and calls[0].data.source == "wine"
    assert isinstance(form.controls()["data.source"].widget, W.Dropdown)


def test_lora_fields_show_when_the_adapter_kind_is_lora():
    form = RecipeForm(Recipe.preset("sentiment"), skip={"augment": ("ops",)})
    c = form.controls()
    lora_fields = ["model.adapter.r", "model.adapter.alpha", "model.adapter.dropout", "model.adapter.targets"]
    assert all(c[f].box.layout.display == "none" for f in lora_fields)
    c["model.adapter.kind"].widget.value = "lora"
    assert all(c[f].box.layout.display == "" for f in lora_fields)
    c["model.adapter.kind"].widget.value = "none"
    assert all(c[f].box.layout.display == "none" for f in lora_fields)


def test_picking_an_architecture_brings_its_defaults_and_says_so_but_keeps_what_the_user_set():
    from lepton_nb.recipe.defaults import ARCH_DEFAULTS

    form = RecipeForm(Recipe.preset("sentiment"), skip={"augment": ("ops",)})
    form.add_extra("augment.ops", lambda: [{"op": "word_dropout", "p": 0.1}], lambda ops: None)
    c = form.controls()
    assert "default for text_bow" in c["train.lr"].note.value
    c["train.epochs"].widget.value = 7  # the user's own choice
    assert c["train.epochs"].note.layout.display == "none"
    c["model.arch"].widget.value = "text_transformer"
    table = ARCH_DEFAULTS["text_transformer"]
    assert form.recipe.model.arch == "text_transformer" and form.recipe.train.epochs == 7
    for key, value in table.items():
        if key != "train.epochs":
            assert form.recipe.get(key) == value, key
            assert "(default for text_transformer)" in c[key].note.value and c[key].note.layout.display == ""
    assert form.recipe == Recipe.preset("sentiment").updated({"model.arch": "text_transformer", "train.epochs": 7})
    c["model.adapter.kind"].widget.value = "lora"  # peft's LoRA: the base is frozen
    assert form.recipe.model.freeze == "features" and "default for lora" in c["model.freeze"].note.value
    c["model.freeze"].widget.value = "none"  # adapters and a trainable base, said explicitly
    c["model.adapter.kind"].widget.value = "none"
    c["model.adapter.kind"].widget.value = "lora"
    assert form.recipe.model.freeze == "none"
    form.set_recipe(Recipe.preset("sentiment"))  # a loaded recipe: its values follow the next choice again
    c["model.arch"].widget.value = "text_transformer"
    assert form.recipe.train.epochs == table["train.epochs"]
