"""The Search tab without a kernel: the space editor, a live trials table with running trials, Stop,
Apply best, trials in the Runs tab, and the job lock shared with training."""

from __future__ import annotations

import pytest

import lepton_nb as lnb
from lepton_nb.recipe import searchable_fields
from lepton_nb.search import Study
from lepton_nb.ui.studio import TABS
from lepton_nb.ui.views.space import default_distribution
from tests.conftest import wait_for
from tests.search.conftest import search_recipe


@pytest.fixture
def studio(tmp_path):
    s = lnb.Studio(search_recipe(), out=tmp_path, hz=20)
    assert s.wait_data(60) is not None
    yield s
    s.close()


def test_the_editor_shows_the_recipe_space_and_every_searchable_field(studio):
    panel = studio.search_panel
    assert "Search" in TABS and studio.tabs.children[TABS.index("Search")] is panel.box
    assert set(panel.editor.rows) == set(searchable_fields(lnb.Recipe))
    assert panel.editor.get() == studio.recipe.search.space
    assert "1e-07" in panel.editor.rows["train.lr"].allowed.value  # what the field allows, beside it


def test_ticking_a_field_proposes_a_valid_range_around_its_value(studio):
    panel = studio.search_panel
    panel.editor.rows["model.depth"].tick.value = True
    assert studio.recipe.search.space["model.depth"] == {"int": [1, 4]}  # depth 2 → 1..4
    panel.editor.rows["train.optimizer"].tick.value = True
    assert studio.recipe.search.space["train.optimizer"]["choice"][0] == "sgd"
    panel.editor.rows["model.depth"].tick.value = False
    assert "model.depth" not in studio.recipe.search.space


def test_the_search_tick_beside_a_form_field_ticks_its_editor_row(studio):
    tick = studio.search_panel.form_ticks["model.depth"]
    assert tick in studio.form.controls()["model.depth"].row.children
    tick.value = True
    assert studio.search_panel.editor.rows["model.depth"].tick.value
    assert "model.depth" in studio.recipe.search.space
    studio.search_panel.editor.rows["train.lr"].tick.value = False
    assert not studio.search_panel.form_ticks["train.lr"].value


def test_a_range_outside_the_field_is_shown_under_the_editor(studio):
    row = studio.search_panel.editor.rows["train.lr"]
    row.low.value = "1e-9"
    assert studio.form.recipe.search.space["train.lr"] != {"log_uniform": [1e-9, 0.03]}
    shown = studio.search_panel.problems.value
    assert "search.space.train.lr" in shown and "1e-07" in shown
    row.low.value = "0.001"
    assert studio.search_panel.problems.value == ""


def test_the_tab_says_when_the_pruner_can_never_stop_a_trial(studio):
    panel = studio.search_panel
    assert studio.recipe.train.epochs == 2 and studio.recipe.search.warmup_epochs == 2
    assert "never stops a trial" in panel.pruning.value and "search.warmup_epochs is 2" in panel.pruning.value
    assert panel.pruning in panel.box.children[1].children  # beside the search settings that cause it
    studio.update({"search.warmup_epochs": 1})
    assert panel.pruning.value == ""
    studio.update({"search.pruner": "none", "search.warmup_epochs": 5})
    assert panel.pruning.value == ""  # no pruner: nothing to say


@pytest.mark.parametrize("key", sorted(searchable_fields(lnb.Recipe)))
def test_every_proposed_range_is_valid(key):
    typ, meta = searchable_fields(lnb.Recipe)[key]
    value = lnb.Recipe.default().get(key)
    lnb.Recipe.default().updated({"search.space": {key: default_distribution(typ, meta, value)}})


def test_search_runs_in_the_background_with_a_live_table_and_apply_best(studio, tmp_path):
    panel = studio.search_panel
    panel.period = 0.02  # refresh the view often: trials here last about a second
    studio.update({"search.trials": 2, "train.epochs": 25})  # trials train in the worker at full speed: ~2 s
    seen = {}

    def running_shown() -> bool:  # a snapshot of the table while a trial runs
        rows, table = panel.view.rows, panel.view.table.value
        if any(r["state"] == "running" for r in rows):
            seen.update(rows=rows, table=table)
        return bool(seen)

    assert studio.search(wait=False) is None
    assert not studio.start() and "the search" in studio.monitor.message  # one CPU-heavy job at a time
    assert wait_for(running_shown, 60)
    assert "lnb-trial-running" in seen["table"] and "train.lr" in seen["table"]
    running = next(r for r in seen["rows"] if r["state"] == "running")
    assert running["trial"] in (0, 1) and running["seconds"] is not None
    assert panel.task.wait(120) and panel.study is not None
    study = panel.study
    assert len(study.trials) == 2 and panel.view.curve.value[:4] == b"\x89PNG"
    assert "best val_accuracy" in panel.status.value and not panel.apply_button.disabled
    assert [r.recipe.name for r in studio.runs] == ["digits-cnn-t000", "digits-cnn-t001"]  # trials in the Runs tab
    recipe = panel.apply_best()
    assert studio.recipe == recipe and recipe.train.lr == study.best_params["train.lr"]
    assert studio.start() and studio.wait(60)  # the lock was released


def test_stop_ends_the_running_trial_and_start_continues_the_study(studio, tmp_path):
    panel = studio.search_panel
    studio.update({"search.trials": 2, "train.epochs": 200, "data.limit": 0})
    studio.wait_data(60)
    assert panel.start()
    assert wait_for(lambda: any(r["state"] == "running" and r["epoch"] for r in panel.view.rows), 60)
    studio.stop()  # the studio's Stop stops the search too
    assert panel.task.wait(30)
    assert "stopped" in panel.status.value and panel.study.trials.state.tolist() == ["fail"]
    assert Study.load(tmp_path / "digits-cnn-search").counts() == {"fail": 1}
    studio.update({"train.epochs": 1, "data.limit": 300})
    studio.wait_data(60)
    assert panel.start() and panel.task.wait(120)
    assert panel.study.counts() == {"fail": 1, "complete": 2}


def test_a_search_without_a_space_explains_itself(tmp_path):
    s = lnb.Studio(search_recipe().updated({"search.space": {}}), out=tmp_path)
    try:
        assert not s.search_panel.start()
        assert "search.space" in s.search_panel.status.value and "at least one field" in s.search_panel.status.value
    finally:
        s.close()


def test_trials_train_in_the_worker_process_not_in_the_kernel(studio, monkeypatch):
    import lepton_nb.search.engine as engine

    def kernel_train(*args, **kwargs):
        raise AssertionError("a trial trained in the kernel")

    monkeypatch.setattr(engine, "train", kernel_train)  # the kernel's copy only: the worker has its own
    studio.update({"search.trials": 2, "train.epochs": 1})
    panel = studio.search_panel
    assert panel.start() and panel.task.wait(120)
    assert panel.error is None and panel.study.counts() == {"complete": 2}
    assert [r.recipe.name for r in studio.runs] == ["digits-cnn-t000", "digits-cnn-t001"]
    assert studio.runs[0].history.epochs and studio.runs[0].model is None  # its curves came over, not its model
    assert studio.session.runner.process is not None and studio.session.runner.process.alive()
