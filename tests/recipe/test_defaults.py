"""Defaults that follow a choice: an architecture brings its own settings, an adapter implies peft's freezing."""

import dataclasses

import pytest

import lepton_nb as lnb
from lepton_nb.data import DataSpec
from lepton_nb.models import build_model, count_parameters
from lepton_nb.recipe import ARCHS_FOR_KIND, Recipe
from lepton_nb.recipe.defaults import ADAPTER_DEFAULTS, ARCH_DEFAULTS, DEPENDENT_DEFAULTS, following, plain_default
from lepton_nb.workflows.finetune import initialize

TEXT = DataSpec("text", [12], 2, ["neg", "pos"], vocab_size=60)
LORA = {"kind": "lora", "r": 8, "alpha": 16}


def leaf_paths(obj, prefix=""):
    for f in dataclasses.fields(obj):
        value = getattr(obj, f.name)
        if dataclasses.is_dataclass(value):
            yield from leaf_paths(value, f"{prefix}{f.name}.")
        else:
            yield f"{prefix}{f.name}"


def test_every_table_names_recipe_fields_and_gives_a_valid_recipe():
    leaves = set(leaf_paths(Recipe.default()))
    for option, table in DEPENDENT_DEFAULTS.items():
        assert option in leaves
        for value, defaults in table.items():
            assert set(defaults) <= leaves, (option, value)
            assert option not in defaults
    arch_keys = {k for d in ARCH_DEFAULTS.values() for k in d}
    assert not arch_keys & {k for d in ADAPTER_DEFAULTS.values() for k in d}  # one option decides each key
    assert set(ARCH_DEFAULTS) <= set(ARCHS_FOR_KIND["text"]) | set(ARCHS_FOR_KIND["image"]) | {"tabular_mlp"}
    for arch, defaults in ARCH_DEFAULTS.items():
        recipe = Recipe.from_dict({"data": {"source": "text_tsv", "path": "x.tsv"}, "model": {"arch": arch}})
        assert all(recipe.get(k) == v for k, v in defaults.items())
    # the text architectures list the same training keys: switching never leaves one's rate on another
    text = [set(k for k in ARCH_DEFAULTS[a] if k.startswith("train.")) for a in ARCHS_FOR_KIND["text"]]
    assert all(t == text[0] for t in text)


def test_a_recipe_leaving_a_field_out_gets_its_architectures_default_and_saves_it():
    recipe = Recipe.from_dict({"data": {"source": "text_tsv", "path": "r.tsv"},
                               "model": {"arch": "text_transformer", "heads": 2}})
    table = ARCH_DEFAULTS["text_transformer"]
    assert recipe.model.heads == 2  # set by the recipe: kept
    assert recipe.model.embed_dim == table["model.embed_dim"] and recipe.train.lr == table["train.lr"]
    assert recipe.train.epochs == table["train.epochs"]
    saved = recipe.to_dict()  # the recipe JSON records every value used
    assert saved["train"]["lr"] == table["train.lr"] and Recipe.from_json(recipe.to_json()) == recipe
    image = Recipe.from_dict({"model": {"arch": "cnn"}})  # no table: the fields' own defaults
    assert image.train.lr == plain_default("train.lr") and image.train.batch_size == plain_default("train.batch_size")


def test_switching_the_architecture_brings_its_settings_unless_the_same_change_sets_them():
    preset = Recipe.preset("sentiment")
    assert preset.train.lr == 1e-2 and preset.model.dropout == 0.5 and preset.train.epochs == 30  # text_bow's own
    picked = preset.updated({"model.arch": "text_transformer"})
    for key, value in ARCH_DEFAULTS["text_transformer"].items():
        assert picked.get(key) == value, key
    assert picked.data.path == preset.data.path and picked.augment.ops == preset.augment.ops  # the rest stays
    assert picked.updated({"model.arch": "text_bow"}) == preset  # and back again
    mine = preset.updated({"model.arch": "text_transformer", "train.lr": 0.02})
    assert mine.train.lr == 0.02 and mine.model.embed_dim == ARCH_DEFAULTS["text_transformer"]["model.embed_dim"]
    same = preset.updated({"train.epochs": 5})  # no other architecture: nothing else moves
    assert same.train.epochs == 5 and same.train.lr == preset.train.lr


def test_lora_as_users_write_it_freezes_the_base_like_peft():
    recipe = Recipe.from_dict({"data": {"source": "text_tsv", "path": "r.tsv"},
                               "model": {"arch": "text_transformer", "adapter": LORA}})
    assert recipe.model.freeze == "features"
    model = build_model(recipe.model, TEXT, seed=0)
    initialize(model, recipe.model, TEXT)
    learning = [n for n, p in model.named_parameters() if p.requires_grad]
    assert learning and all(".lora_" in n or n.startswith("head.") for n in learning)
    assert count_parameters(model, trainable_only=True) < 0.2 * count_parameters(model)
    # adapters and a trainable base: said explicitly
    both = Recipe.from_dict({"data": {"source": "text_tsv", "path": "r.tsv"},
                             "model": {"arch": "text_transformer", "adapter": LORA, "freeze": "none"}})
    model = build_model(both.model, TEXT, seed=0)
    initialize(model, both.model, TEXT)
    assert count_parameters(model, trainable_only=True) == count_parameters(model)


def test_the_adapter_kind_decides_freezing_unless_the_change_says_otherwise():
    base = Recipe.preset("sentiment").updated({"model.arch": "text_transformer"})
    lora = base.updated({"model.adapter": LORA})
    assert lora.model.freeze == "features" and following(lora.to_dict(), "model.freeze") == "lora"
    assert lora.updated({"model.adapter.kind": "none"}).model.freeze == "none"
    assert base.updated({"model.adapter.kind": "lora", "model.freeze": "none"}).model.freeze == "none"
    assert base.updated({"model.adapter.kind": "lora", "model.freeze": "all_but_adapters"}).model.freeze == \
        "all_but_adapters"
    old = lora.to_dict()  # a saved recipe names its freezing: it runs as it ran
    old["model"]["freeze"] = "none"
    assert Recipe.from_dict(old).model.freeze == "none"


def test_trainable_share_of_the_lora_recipe_from_the_readme(tmp_path):
    """The README's LoRA line with init_from and no freeze: adapters and head only, not 100 % of the weights."""
    from tests.conftest import write_sentiment
    from tests.workflows.test_transformers import text_recipe

    recipe = text_recipe(write_sentiment(tmp_path / "r.tsv", n=80), **{"train.epochs": 1})
    pre = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    fine = lnb.train(recipe.updated({"model.init_from": str(pre.dir), "model.adapter": LORA}), out=None,
                     progress=False)
    params = fine.extras["parameters"]
    assert params["trainable"] < 0.5 * params["total"]
    assert fine.extras["init"]["frozen"] == ["features"]


@pytest.mark.parametrize("arch", ["text_bow", "text_cnn", "text_bilstm", "text_transformer"])
def test_each_text_architecture_from_the_dropdown_gets_its_own_settings(arch):
    recipe = Recipe.preset("sentiment").updated({"model.arch": arch})
    assert all(recipe.get(k) == v for k, v in ARCH_DEFAULTS[arch].items())
