"""What a run folder holds after its process was killed, and what `load_run` and resume make of it: an
unfinished run loads with the history its last checkpoint holds and says how to resume; a folder killed before
anything was trained is refused saying so; temporary files of dead writers are removed on opening."""

import shutil

import pytest

import lepton_nb as lnb
from lepton_nb.errors import CheckpointError, UsageError
from lepton_nb.files import temp_files
from lepton_nb.training.checkpoint import load_checkpoint
from lepton_nb.training.events import EpochEnd
from tests.conftest import tiny_recipe

RECIPE = tiny_recipe(**{"train.epochs": 3, "data.limit": 300, "interpret.enabled": False})


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    return lnb.train(RECIPE, out=tmp_path_factory.mktemp("runs"), progress=False, report=False).dir


@pytest.fixture
def folder(finished, tmp_path):
    return shutil.copytree(finished, tmp_path / "run")


def test_killed_between_last_pt_and_history_json_loads_unfinished_and_resumes(folder, tmp_path):
    (folder / "metrics.json").unlink()
    (folder / "history.json").unlink()  # the process ended after checkpoints/last.pt of epoch 3
    run = lnb.load_run(folder)
    assert run.status == "unfinished" and len(run.history) == 3 and run.history.length("batch_loss") > 0
    assert f"lepton-nb run {folder / 'recipe.json'} --resume {folder}" in run.message
    assert "after epoch 3 of 3" in run.message
    resumed = lnb.train(RECIPE, resume=folder, out=tmp_path / "more", progress=False, report=False)
    assert resumed.status == "completed" and resumed.epochs_done == 3


def test_a_history_json_one_epoch_behind_is_replaced_by_the_checkpoints(folder):
    (folder / "metrics.json").unlink()
    history = lnb.History.load(folder / "history.json")
    history.truncate_epochs(2)
    history.save(folder / "history.json")
    assert len(lnb.load_run(folder).history) == 3


def test_a_finished_run_keeps_its_own_history_json(folder):
    assert lnb.load_run(folder).status == "completed"
    assert len(lnb.load_run(folder).history) == 3


@pytest.mark.parametrize(("keep", "error", "says"), [
    ((), UsageError, "has no recipe.json .* nothing was trained"),
    (("recipe.json",), UsageError, "has recipe.json but no data.json: its process ended before the data was "
                                   "prepared, so nothing was trained; allowed: train it again with lepton-nb run"),
    (("recipe.json", "data.json"), CheckpointError, "no checkpoints .* or train this one again: lepton-nb run"),
])
def test_a_folder_killed_before_its_first_epoch_is_refused_saying_what_to_do(folder, keep, error, says):
    for p in list(folder.iterdir()):
        if p.name not in keep:
            shutil.rmtree(p) if p.is_dir() else p.unlink()
    with pytest.raises(error, match=says):
        lnb.load_run(folder)
    with pytest.raises((UsageError, CheckpointError)):
        lnb.train(RECIPE, resume=folder, out=None, progress=False)


def test_opening_a_folder_removes_dead_writers_temp_files(folder):
    dead = [folder / ".history.json.999999999.tmp", folder / "checkpoints" / ".last.pt.999999999.tmp",
            folder / "export" / ".model.onnx.999999999.tmp"]
    for p in dead:
        p.parent.mkdir(exist_ok=True)
        p.write_bytes(b"partial")
    lnb.load_run(folder)
    assert temp_files(folder, recursive=True) == []


def test_a_resumed_run_starts_with_its_sources_best_checkpoint(tmp_path):
    class StopAfterTwo:
        def attach(self, trainer):
            trainer.events.subscribe(lambda e: e.epoch == 1 and trainer.control.stop(), EpochEnd)

    recipe = RECIPE.updated({"train.epochs": 4, "train.scheduler": "none"})
    first = lnb.train(recipe, out=tmp_path / "a", progress=False, report=False, callbacks=[StopAfterTwo()])
    best = load_checkpoint(first.dir / "checkpoints" / "best.pt")
    resumed = lnb.train(recipe, resume=first.dir, out=tmp_path / "b", progress=False, report=False)
    kept = load_checkpoint(resumed.dir / "checkpoints" / "best.pt")
    assert kept["epoch"] >= best["epoch"]  # the source's best, or a better one found after resuming
    assert kept["epoch"] == resumed.best_epoch


def test_resuming_with_a_schedule_of_another_length_is_refused_not_a_traceback(finished):
    longer = RECIPE.updated({"train.epochs": 5})  # the one_cycle schedule was laid out for 3 epochs
    with pytest.raises(CheckpointError, match="learning-rate schedule was laid out for another scheduler or length"):
        lnb.train(longer, resume=finished, out=None, progress=False)
    other = RECIPE.updated({"train.scheduler": "cosine"})
    with pytest.raises(CheckpointError, match="train.scheduler"):
        lnb.train(other, resume=finished, out=None, progress=False)
