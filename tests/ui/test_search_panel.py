"""The Search tab without a kernel: the space editor (only the fields that apply, in plain words), a live
trials table with running trials, the monitor while searching, Stop, Apply best, the report link, trials in
the Runs tab, and the job lock shared with training."""

from __future__ import annotations

import pytest

import lepton_nb as lnb
from lepton_nb.recipe import searchable_fields
from lepton_nb.search import Study
from lepton_nb.ui.studio import TABS
from lepton_nb.ui.views.space import default_distribution
from tests.conftest import HANG_S, wait_for
from tests.search.conftest import search_recipe


@pytest.fixture
def studio(tmp_path):
    s = lnb.Studio(search_recipe(), out=tmp_path, hz=20)
    assert s.wait_data(HANG_S) is not None
    yield s
    s.close()


def shown(panel) -> set[str]:
    return {k for k, r in panel.editor.rows.items() if r.box.layout.display != "none"}


def test_the_editor_shows_the_recipe_space_and_what_each_field_allows_in_words(studio):
    panel = studio.search_panel
    assert "Search" in TABS and studio.tabs.children[TABS.index("Search")] is panel.box
    assert set(panel.editor.rows) == set(searchable_fields(lnb.Recipe))
    assert panel.editor.get() == studio.recipe.search.space
    lr, depth = panel.editor.rows["train.lr"], panel.editor.rows["model.depth"]
    assert "number from 1e-07 to 10" in lr.allowed.value  # what the field allows, beside it
    # before: "int or log_int or choice within 1 … 8"; the search space's terms stay on hover
    assert ">whole number from 1 to 8<" in depth.allowed.value and "title=\"in a recipe: int or log_int" in \
        depth.allowed.value
    assert dict(depth.kind.options) == {"whole number": "int", "whole number, log scale": "log_int",
                                        "one of a list": "choice"}
    assert "log_uniform" in lr.kind.tooltip


def test_only_the_fields_that_apply_to_the_recipe_are_listed(studio):
    panel = studio.search_panel
    listed = shown(panel)  # a digits CNN: no text, LoRA, attack or step-scheduler fields (before: all 41)
    assert {"train.lr", "model.width", "model.depth", "model.batch_norm"} <= listed
    assert not listed & {"model.embed_dim", "model.heads", "model.positions", "model.buckets", "model.adapter.r",
                         "train.adversarial.eps", "train.step_size", "train.gamma"}
    assert len(listed) < 30 and "do not apply" in panel.editor.hidden_note.value
    studio.update({"train.scheduler": "step"})
    assert {"train.step_size", "train.gamma"} <= shown(panel)
    studio.update({"search.space": {**studio.recipe.search.space,
                                    "model.arch": {"choice": ["cnn", "text_transformer"]}}})
    assert "model.heads" in shown(panel) and not studio.problems  # a searched choice brings its fields
    studio.update({"search.space": {"train.lr": {"log_uniform": [0.001, 0.03]}}, "train.scheduler": "none"})
    panel.editor.rows["train.gamma"].tick.value = True  # a ticked field stays listed, applying or not
    assert "train.gamma" in shown(panel)


def test_start_comes_before_the_trials_and_the_space(studio):
    panel = studio.search_panel
    assert panel.box.children[0] is panel.bar and panel.start_button in panel.bar.children
    assert panel.box.children.index(panel.view.box) < len(panel.box.children) - 1  # the space comes last


def test_the_settings_speak_plainly_with_the_technical_names_on_hover(studio):
    controls = studio.form.controls()
    sampler, storage = controls["search.sampler"].help.value, controls["search.storage"].help.value
    visible = lambda text: text.split(">", 1)[1]  # noqa: E731 - the text after the title attribute
    assert "(Bayesian)" not in visible(sampler) and "learns from the trials so far" in visible(sampler)
    assert "Tree-structured Parzen Estimator" in sampler.split(">", 1)[0]
    assert "SQLAlchemy" not in visible(storage) and "several computers share" in visible(storage)
    assert "SQLAlchemy" in storage.split(">", 1)[0] and "postgresql+psycopg://" in visible(storage)


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
    assert panel.pruning in panel.settings.children  # beside the search settings that cause it
    studio.update({"search.warmup_epochs": 1})  # before: silent, yet the pruner could act only after epoch 2 of 2
    assert "only after its last epoch" in panel.pruning.value
    studio.update({"search.warmup_epochs": 0})
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
    studio.update({"search.trials": 2, "train.epochs": 8})  # trials train in the worker at full speed
    seen = {}

    def running_shown() -> bool:  # a snapshot of the table (and the monitor) while a trial runs
        rows, table = panel.view.rows, panel.view.table.value
        if any(r["state"] == "running" for r in rows):
            seen.update(rows=rows, table=table, state=studio.monitor.state, message=studio.monitor.message)
        return bool(seen)

    assert studio.search(wait=False) is None
    assert studio.monitor.state == "searching"  # before: "idle" (or the last run's stale error)
    assert not studio.start() and "the search" in studio.monitor.message  # one CPU-heavy job at a time
    assert wait_for(running_shown)
    assert "lnb-trial-running" in seen["table"] and "train.lr" in seen["table"]
    assert wait_for(lambda: "of 2 trials finished" in studio.monitor.message)  # the search's progress
    assert studio.monitor.state == "searching" and "progress" in dir(studio.monitor)
    running = next(r for r in seen["rows"] if r["state"] == "running")
    assert running["trial"] in (0, 1) and running["seconds"] is not None
    assert panel.task.wait(HANG_S) and panel.study is not None
    study = panel.study
    assert len(study.trials) == 2 and panel.view.curve.value[:4] == b"\x89PNG"
    assert "best val_accuracy" in panel.status.value and not panel.apply_button.disabled
    assert "2 new trials" in panel.status.value and studio.monitor.state == "idle"
    assert "search: 2 new trials" in studio.monitor.message
    link = panel.report_link.value  # before: a server path in <code>; now a link the page itself opens
    assert "href='data:text/html;base64," in link and "download='digits-cnn-search-report.html'" in link
    assert "fANOVA" in panel.view.curve.tooltip  # its text alternative
    assert [r.recipe.name for r in studio.runs] == ["digits-cnn-t000", "digits-cnn-t001"]  # trials in the Runs tab
    assert panel.start() and panel.task.wait(HANG_S)  # Start on the finished study: says that nothing ran
    assert "0 new trials" in panel.status.value and "raise Trials" in panel.status.value
    recipe = panel.apply_best()
    assert studio.recipe == recipe and recipe.train.lr == study.best_params["train.lr"]
    assert studio.start() and studio.wait(HANG_S)  # the lock was released


def test_stop_ends_the_running_trial_and_start_continues_the_study(studio, tmp_path):
    panel = studio.search_panel
    studio.update({"search.trials": 2, "train.epochs": 40, "search.pruner": "none"})  # a trial outlasts the view's lag
    studio.wait_data(HANG_S)
    assert panel.start()
    assert wait_for(lambda: any(r["state"] == "running" and r["epoch"] for r in panel.view.rows))
    studio.stop()  # the studio's Stop (the monitor's ■ Stop) stops the search too
    assert panel.task.wait(HANG_S)
    assert "stopped" in panel.status.value and panel.study.trials.state.tolist() == ["stopped"]
    assert "lnb-trial-stopped" in panel.view.table.value and "#b71c1c" not in panel.view.table.value  # not red
    assert Study.load(tmp_path / "digits-cnn-search").counts() == {"stopped": 1}
    studio.update({"train.epochs": 1})  # another recipe: its study is not this one's
    assert panel.start() and panel.task.wait(HANG_S)
    assert "train.epochs" in panel.status.value and "another recipe name" in panel.status.value
    assert studio.monitor.state == "error" and not panel.searching
    studio.update({"train.epochs": 40})
    assert panel.start() and panel.task.wait(HANG_S)
    assert panel.study.counts() == {"stopped": 1, "complete": 2}
    params = [repr(t.params) for t in panel.study.optuna.trials]
    assert len(set(params)) == 3  # continued the sampler's stream: no configuration of the first run again


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
    assert panel.start() and panel.task.wait(HANG_S)
    assert panel.error is None and panel.study.counts() == {"complete": 2}
    assert [r.recipe.name for r in studio.runs] == ["digits-cnn-t000", "digits-cnn-t001"]
    assert studio.runs[0].history.epochs and studio.runs[0].model is None  # its curves came over, not its model
    assert studio.session.runner.process is not None and studio.session.runner.process.alive()


def test_watch_shows_a_study_that_another_process_runs_without_training_here(tmp_path):
    db = f"sqlite:///{tmp_path / 'shared.db'}"
    recipe = search_recipe(**{"search.trials": 2, "train.epochs": 1, "search.storage": db})
    lnb.tune(recipe, out=tmp_path / "elsewhere", progress=False)  # as another machine would, into its own folder
    s = lnb.Studio(recipe, out=tmp_path / "here", hz=20)
    try:
        panel = s.search_panel
        panel.period = 0.02
        assert panel.watch() and panel.watching and panel.watch_button.description == "Stop watching"
        assert wait_for(lambda: len(panel.view.rows) == 2)  # the study's trials, read from its database
        assert not s.runs and not (tmp_path / "here").exists()  # nothing trained or written here
        panel.unwatch()
        assert not panel.watching and panel.watch_button.description == "Watch"
        s.update({"name": "no-such-study"})
        assert not panel.watch() and "no study of that name" in panel.status.value
    finally:
        s.close()
