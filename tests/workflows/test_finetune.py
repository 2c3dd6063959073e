"""Fine-tuning: start from another run's weights, freeze the features, torchvision weights when online."""

import urllib.error

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.data import DataSpec
from lepton_nb.errors import CheckpointError, ModelError
from lepton_nb.models import build_model
from lepton_nb.recipe import ModelSection
from lepton_nb.workflows.finetune import initialize
from tests.conftest import tiny_recipe


def features_state(model: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in model.state_dict().items() if k.startswith("features.")}


def test_head_only_fine_tune_keeps_every_feature_weight_and_statistic(digits_run, tmp_path):
    source = lnb.load_run(digits_run.dir)
    recipe = tiny_recipe(**{"model.init_from": str(digits_run.dir), "model.freeze": "features",
                            "data.seed": 3, "train.seed": 5, "train.epochs": 2})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    before, after = features_state(source.model), features_state(run.model)
    assert before.keys() == after.keys() and any(k.endswith("running_mean") for k in before)
    for key in before:  # weights and batch-norm statistics untouched
        assert torch.equal(before[key], after[key]), key
    head_before = source.model.state_dict()["head.1.weight"]
    assert not torch.equal(head_before, run.model.state_dict()["head.1.weight"])  # the head did train
    assert run.extras["init"]["loaded"] == ["features", "head"] and run.extras["init"]["frozen"] == ["features"]
    assert run.history.meta["init"]["source"].endswith("last.pt")


def test_digits_to_mnist_reuses_the_convolutions_and_retrains_the_head(digits_run, mnist_root, tmp_path):
    recipe = tiny_recipe(**{"data.source": "mnist", "data.root": str(mnist_root), "data.download": False,
                            "data.official_split": "test", "data.limit": 600, "augment.ops": [],
                            "model.init_from": str(digits_run.dir), "model.freeze": "features", "train.epochs": 2})
    run = lnb.train(recipe, out=tmp_path / "runs", progress=False)
    assert run.extras["init"]["loaded"] == ["features"] and run.extras["init"]["fresh"] == ["head"]
    assert "shape differs" in run.extras["init"]["note"]  # 28x28 inputs flatten to a larger head input
    source = features_state(digits_run.model)
    for key, value in features_state(run.model).items():
        assert torch.equal(source[key].cpu(), value.cpu()), key
    assert run.metrics["accuracy"] > 0.3  # frozen digit features carry over to MNIST (chance is 0.1)


def test_fine_tuning_everything_changes_the_features_from_the_source(digits_run, tmp_path):
    recipe = tiny_recipe(**{"model.init_from": str(digits_run.dir / "checkpoints" / "best.pt"), "train.epochs": 1})
    run = lnb.train(recipe, out=None, progress=False)
    assert run.extras["init"]["frozen"] == [] and "features" in run.extras["init"]["loaded"]
    before, after = features_state(digits_run.model), features_state(run.model)
    assert any(not torch.equal(before[k].cpu(), after[k].cpu()) for k in before)


def test_init_from_problems_name_the_field_value_and_what_fits(digits_run, tmp_path):
    with pytest.raises(CheckpointError, match="model.init_from: .* no such run folder or checkpoint file"):
        lnb.train(tiny_recipe(**{"model.init_from": str(tmp_path / "missing")}), out=None, progress=False)
    with pytest.raises(ModelError, match=r"features.0.weight is \[8, 1, 3, 3\] there, \[16, 1, 3, 3\] here"):
        lnb.train(tiny_recipe(**{"model.init_from": str(digits_run.dir), "model.width": 16}), out=None,
                  progress=False)
    with pytest.raises(ModelError, match="that run trained arch 'cnn', this recipe has 'mlp'"):
        lnb.train(tiny_recipe(**{"model.init_from": str(digits_run.dir), "model.arch": "mlp"}), out=None,
                  progress=False)


def test_recipe_validates_fine_tuning_combinations():
    with pytest.raises(lnb.RecipeError) as err:
        lnb.Recipe.default().updated({"model.freeze": "features"})
    assert "model.freeze: \"features\" — would train a head on random, frozen features" in str(err.value)
    with pytest.raises(lnb.RecipeError, match="model.pretrained: true — torchvision weights exist for arch "
                                              "resnet18 only"):
        lnb.Recipe.default().updated({"model.pretrained": True})
    with pytest.raises(lnb.RecipeError, match="model.init_from: \"runs/x\" — model.pretrained is also set"):
        lnb.Recipe.default().updated({"model.arch": "resnet18", "model.pretrained": True, "model.init_from": "runs/x"})
    with pytest.raises(lnb.RecipeError, match="did you mean 'features'"):
        lnb.Recipe.default().updated({"model.freeze": "feature"})


SPEC = DataSpec("image", [1, 8, 8], 10, [str(i) for i in range(10)])


def test_pretrained_offline_gives_a_clear_error(monkeypatch):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    cfg = ModelSection(arch="resnet18", pretrained=True)
    with pytest.raises(ModelError) as err:
        initialize(build_model(cfg, SPEC), cfg, SPEC)
    message = str(err.value)
    assert message.startswith("model.pretrained: true — the ImageNet weights of resnet18 are not in the torch "
                              "hub cache")
    assert "resnet18-f37072fd.pth" in message and "allowed: false when offline" in message


def test_pretrained_weights_load_into_the_features_with_grey_input(monkeypatch):
    import torchvision

    imagenet = torchvision.models.resnet18(weights=None).state_dict()  # stands in for the downloaded file
    seen = {}

    def cached(url, **kwargs):
        seen.update(kwargs, url=url)
        return imagenet

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", cached)
    cfg = ModelSection(arch="resnet18", pretrained=True, freeze="features")
    model = build_model(cfg, SPEC, seed=0)
    report = initialize(model, cfg, SPEC)
    assert seen["weights_only"] is True and seen["url"].endswith("resnet18-f37072fd.pth")
    state = model.state_dict()
    assert torch.equal(state["features.4.0.conv1.weight"], imagenet["layer1.0.conv1.weight"])
    assert torch.allclose(state["features.0.weight"], imagenet["conv1.weight"].sum(1, keepdim=True), atol=1e-6)
    assert report.loaded == ["features"] and report.fresh == ["head"] and report.frozen == ["features"]
    assert not any(p.requires_grad for p in model.features.parameters())
    model.train()
    assert not model.features.training and model.head.training
    assert model(torch.zeros(2, 1, 8, 8)).shape == (2, 10)
