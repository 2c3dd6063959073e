"""Names the recipe lists dispatch through registries keyed by the same names: the key sets agree, and adding an
architecture, an augmentation op or an attribution method is one entry in the recipe's table and one in its
room's registry (shown here with entries that exist only in these tests)."""

import math

import pytest
import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.data.augment import OPS, AugmentOp, BatchAugment, coin_params
from lepton_nb.data.normalize import NORMALIZERS
from lepton_nb.data.sources import LOADERS
from lepton_nb.interpret.attributors import ATTRIBUTORS, LAYERS, Attributor
from lepton_nb.models import BUILDERS, Classifier
from lepton_nb.recipe import (
    ARCHS,
    AUGMENT_OPS,
    METHODS,
    OPTIMIZERS,
    SCHEDULERS,
    SOURCES,
    AdversarialSection,
    Arch,
    Method,
    NormalizeSection,
    OpSpec,
    Param,
)
from lepton_nb.recipe.fields import describe_fields
from lepton_nb.robust import ATTACKS
from lepton_nb.robust.training import ADVERSARIES
from lepton_nb.training import optim
from lepton_nb.ui.panels.robustness import METHODS as ATTACK_CHOICES
from tests.conftest import tiny_recipe


def choices(section: type, name: str) -> set[str]:
    return set(next(f["choices"] for f in describe_fields(section) if f["name"] == name))


TABLES = {
    "architectures": (set(ARCHS), set(BUILDERS)),
    "augmentation ops": (set(AUGMENT_OPS), set(OPS)),
    "attribution methods": (set(METHODS), set(ATTRIBUTORS)),
    "layers methods need": ({m.needs for m in METHODS.values() if m.needs}, set(LAYERS)),
    "optimizers": (set(OPTIMIZERS), set(optim.OPTIMIZERS)),
    "schedulers": (set(SCHEDULERS), set(optim.SCHEDULERS)),
    "data sources": (set(SOURCES), set(LOADERS)),
    "normalizations": (choices(NormalizeSection, "method"), set(NORMALIZERS)),
    "adversarial training": (choices(AdversarialSection, "method") - {"none"}, set(ADVERSARIES)),
}


@pytest.mark.parametrize("table", TABLES)
def test_the_recipes_names_and_the_registries_agree(table):
    listed, registered = TABLES[table]
    assert listed == registered


def test_the_robustness_tab_offers_registered_attacks():
    assert {value for _, value in ATTACK_CHOICES} <= set(ATTACKS)


def test_every_capability_a_method_needs_is_one_an_architecture_declares():
    assert {m.needs for m in METHODS.values() if m.needs} <= set(vars(Arch(("image",))))


def linear(spec, cfg):
    return Classifier(nn.Flatten(), nn.Linear(math.prod(spec.input_shape), spec.num_classes), cfg.arch)


def test_an_architecture_is_two_entries(monkeypatch):
    monkeypatch.setitem(ARCHS, "test_linear", Arch(("image", "tabular")))  # lepton_nb/recipe/archs.py
    monkeypatch.setitem(BUILDERS, "test_linear", linear)  # its family's module in lepton_nb/models/
    recipe = tiny_recipe(**{"model.arch": "test_linear", "train.epochs": 1})
    run = lnb.train(recipe, out=None, progress=False, report=False)
    assert run.status == "completed" and isinstance(run.model.head, nn.Linear)
    with pytest.raises(lnb.RecipeError, match="test_linear.*not for text data"):
        lnb.Recipe.from_dict({"data": {"source": "text_tsv", "path": "x.tsv"}, "model": {"arch": "test_linear"}})


def test_an_augmentation_op_is_two_entries(monkeypatch):
    monkeypatch.setitem(AUGMENT_OPS, "test_invert", OpSpec(  # lepton_nb/recipe/ops.py
        ("image",), "Invert the image with probability p.", {"p": Param(0.5, 0.0, 1.0, "probability")}))
    monkeypatch.setitem(OPS, "test_invert", AugmentOp(  # lepton_nb/data/augment.py
        coin_params, lambda x, params: torch.where(params["mask"], 1 - x, x)))
    recipe = tiny_recipe(**{"augment.ops": [{"op": "test_invert", "p": 1.0}], "train.epochs": 1})
    x = torch.rand(4, 1, 8, 8)
    assert torch.equal(BatchAugment(recipe.augment.ops, "image")(x, torch.Generator()), 1 - x)
    assert lnb.train(recipe, out=None, progress=False, report=False).status == "completed"


def test_an_attribution_method_is_two_entries(monkeypatch, digits_run):
    monkeypatch.setitem(METHODS, "test_input_sign", Method(  # lepton_nb/recipe/methods.py
        "Input sign", "The sign of every input (a test method).", ("image", "tabular")))
    monkeypatch.setitem(ATTRIBUTORS, "test_input_sign", Attributor(  # lepton_nb/interpret/attributors.py
        lambda ask: (ask.x.detach().sign(), None), captum=False))
    x = digits_run.data.inputs("test")[:3]
    explanation = lnb.explain(digits_run, x, "test_input_sign")
    assert torch.equal(explanation.attributions, x.sign())
    assert tiny_recipe(**{"interpret.method": "test_input_sign"}).interpret_method == "test_input_sign"
