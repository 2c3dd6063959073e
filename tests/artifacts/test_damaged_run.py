"""Damaged or hand-edited run folders: load_run, predict and export refuse them with the file named, and never
rebuild a model whose description disagrees with its weights."""

import json
import shutil

import pytest
import torch

import lepton_nb as lnb
from lepton_nb.errors import CheckpointError, LeptonError, RecipeError


@pytest.fixture
def run_dir(digits_run, tmp_path):
    target = tmp_path / "run"
    shutil.copytree(digits_run.dir, target, ignore=shutil.ignore_patterns("export", "optimized"))
    return target


def edit_json(path, change):
    data = json.loads(path.read_text())
    change(data)
    path.write_text(json.dumps(data))


def refuse(run_dir, match):
    with pytest.raises(LeptonError, match=match):
        lnb.load_run(run_dir)


def test_data_json_without_spec_or_with_an_unknown_field(run_dir):
    edit_json(run_dir / "data.json", lambda d: d.pop("spec"))
    refuse(run_dir, "data.json: spec: .*data.json' — is missing or not an object")


def test_data_json_with_an_unknown_spec_field(run_dir):
    edit_json(run_dir / "data.json", lambda d: d["spec"].update(colour="red"))
    refuse(run_dir, r"data.json: spec.colour: .* — unknown field; allowed: kind, input_shape")


def test_hand_edited_classes_are_refused_not_exported_as_a_two_class_model(run_dir, tmp_path):
    edit_json(run_dir / "data.json", lambda d: d["spec"].update(classes=["a", "b"]))
    refuse(run_dir, r"data.json: spec.num_classes: .* — allowed: the number of class names \(2\)")
    with pytest.raises(CheckpointError, match="num_classes"):
        lnb.export(run_dir, "torchscript", tmp_path / "m.pt")
    assert not (tmp_path / "m.pt").exists() and not (tmp_path / "model.json").exists()


def test_hand_edited_class_count_no_longer_fits_the_weights(run_dir):
    edit_json(run_dir / "data.json", lambda d: d["spec"].update(classes=["a", "b"], num_classes=2))
    refuse(run_dir, "does not fit the recipe's model")


def test_hand_edited_normalization_is_refused(run_dir):
    edit_json(run_dir / "data.json", lambda d: d["normalization"].update(shift=[0.1, 0.2, 0.3]))
    refuse(run_dir, "normalization.shift")
    edit_json(run_dir / "data.json", lambda d: d["normalization"].update(shift=[0.1], scale=[0.0]))
    refuse(run_dir, "normalization.scale")


@pytest.mark.parametrize("text", ["{not json", "[]", '{"series": 3}', "[" * 50_000])
def test_invalid_history_is_named(run_dir, text):
    (run_dir / "history.json").write_text(text)
    refuse(run_dir, "history.json")


@pytest.mark.parametrize("text", ["[]", '{"test": {"metrics": {}}}', '{"test": 5}'])
def test_damaged_metrics_are_named(run_dir, text):
    (run_dir / "metrics.json").write_text(text)
    refuse(run_dir, "metrics.json")


def test_a_checkpoint_holding_a_non_dict_is_refused(run_dir):
    for which in ("best", "last"):
        torch.save([1, 2, 3], run_dir / "checkpoints" / f"{which}.pt")
    refuse(run_dir, "holds a list, not a checkpoint")
    with pytest.raises(CheckpointError, match="holds a list"):
        lnb.train(lnb.Recipe.from_file(run_dir / "recipe.json"), out=None, progress=False, resume=run_dir)


def test_a_damaged_recipe_names_its_file(run_dir):
    (run_dir / "recipe.json").write_text('{"train": {"lr": -1}}')
    with pytest.raises(RecipeError, match=r"recipe file: .*recipe.json\" — is not a valid recipe"):
        lnb.load_run(run_dir)
