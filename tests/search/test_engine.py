"""lnb.tune: trials are ordinary runs, pruning from epoch events, failures recorded, studies resume."""

from __future__ import annotations

import json
import statistics
import threading

import optuna
import pytest

import lepton_nb as lnb
from lepton_nb.errors import RecipeError, UsageError
from lepton_nb.plotting import new_figure
from lepton_nb.search import Study, TrialPruning, finished_count
from lepton_nb.search.identity import identity
from lepton_nb.training.control import Control
from tests.conftest import HANG_S, wait_for
from tests.search.conftest import search_recipe


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    out = tmp_path_factory.mktemp("study")
    runs = []
    study = lnb.tune(search_recipe(**{"train.checkpoint": True}), out=out, progress=False, on_run=runs.append)
    return study, out, runs


def test_each_trial_is_a_run_with_its_values_and_the_study_keeps_its_files(finished):
    study, out, runs = finished
    folder = out / "digits-cnn-search"
    assert {"study.db", "study.json", "recipe.json", "trials.csv", "report.html"} <= {p.name for p in
                                                                                       folder.iterdir()}
    table = study.trials
    assert list(table.trial) == [0, 1, 2] and set(table.state) <= {"complete", "pruned"}
    assert len(runs) == 3 and finished_count(study.optuna) == 3
    for (_, row), run in zip(table.iterrows(), runs):
        saved = json.loads((run.dir / "recipe.json").read_text())
        assert saved["train"]["lr"] == pytest.approx(row["train.lr"])
        assert saved["model"]["width"] == row["model.width"] and run.dir.parent == folder / "runs"
        assert str(run.dir) == row["run_folder"]


def test_best_recipe_carries_the_best_values_and_validates(finished):
    study, out, _ = finished
    best = study.best_recipe
    assert best.validate() == [] and best.name == "digits-cnn-best"
    assert best.train.lr == study.best_params["train.lr"] and best.model.width == study.best_params["model.width"]
    assert study.best_value == study.trials.value.max()
    assert lnb.Recipe.from_file(out / "digits-cnn-search" / "best_recipe.json") == best
    assert (study.best_run / "report.html").is_file()  # the best trial's run gets its report


def test_study_loads_back_and_draws_on_given_axes(finished):
    study, out, _ = finished
    again = Study.load(out / "digits-cnn-search")
    assert again.trials.drop(columns="duration_s").equals(study.trials.drop(columns="duration_s"))
    fig = new_figure()
    ax = fig.subplots()
    again.plot_history(ax)
    assert ax.collections  # the trials' points
    fig = new_figure()
    again.plot_slices(fig)
    assert len(fig.axes) == 2
    fig = new_figure()
    again.plot_parallel(fig.subplots())
    assert isinstance(again.importances(), dict)
    assert "best val_accuracy" in again.table()


def test_a_second_search_without_resume_is_refused(finished):
    _, out, _ = finished
    with pytest.raises(UsageError, match="resume"):
        lnb.tune(search_recipe(), out=out, progress=False)


def test_resume_with_another_space_is_refused(finished):
    _, out, _ = finished
    with pytest.raises(RecipeError, match="search.space"):
        lnb.tune(search_recipe(space={"train.lr": {"uniform": [0.001, 0.01]}}), out=out, resume=True,
                 progress=False)


def test_the_study_keeps_its_objective_direction_and_recipe_hash(finished):
    study, _, _ = finished
    kept = study.optuna.user_attrs["lepton_nb"]
    assert kept["objective"] == "val_accuracy" and kept["direction"] == "maximize"
    assert kept["recipe_hash"] == identity(search_recipe(**{"train.checkpoint": True}))["recipe_hash"]


@pytest.mark.parametrize("changes, named", [
    ({"search.objective": "val_loss"}, "search.objective"),  # kept "maximize": the highest loss would be best
    ({"search.direction": "minimize"}, "search.direction"),
    ({"train.epochs": 1}, "train.epochs"),  # best_recipe would no longer reproduce the best trial
    ({"model.dropout": 0.3, "data.limit": 200}, "data.limit"),
])
def test_resume_with_another_objective_direction_or_recipe_is_refused_naming_what_differs(finished, changes,
                                                                                          named):
    study, out, _ = finished
    before = len(study.optuna.trials)
    recipe = search_recipe(**{"train.checkpoint": True, **changes})
    with pytest.raises(RecipeError) as info:
        lnb.tune(recipe, out=out, resume=True, progress=False, trials=5)
    text = str(info.value)
    assert named in text and "digits-cnn" in text and "another recipe name" in text
    assert {p.field for p in info.value.problems} == set(changes)  # exactly the fields that differ
    assert len(Study.load(out / "digits-cnn-search").optuna.trials) == before  # nothing ran


def test_resume_replays_no_configuration_and_a_seed_reproduces_each_trial(tmp_path):
    # before: every open seeded the sampler alike, so trials 3-5 repeated trials 0-2 (3 of 6 repeated)
    recipe = search_recipe(**{"search.trials": 3, "search.pruner": "none", "search.sampler": "random",
                              "train.epochs": 1})
    lnb.tune(recipe, out=tmp_path / "a", progress=False)
    resumed = lnb.tune(recipe, out=tmp_path / "a", progress=False, resume=True, trials=6)
    params = [repr(t.params) for t in resumed.optuna.trials]
    assert len(params) == 6 and len(set(params)) == 6
    whole = lnb.tune(recipe, out=tmp_path / "b", progress=False, trials=6)  # the same seed in one go
    assert [repr(t.params) for t in whole.optuna.trials] == params  # trial n's values: from the seed and n


def test_tpe_start_up_trials_continue_across_a_resume(tmp_path):
    recipe = search_recipe(**{"search.trials": 2, "search.pruner": "none", "search.startup_trials": 5,
                              "train.epochs": 1})
    lnb.tune(recipe, out=tmp_path, progress=False)
    resumed = lnb.tune(recipe, out=tmp_path, progress=False, resume=True, trials=4)
    assert len({repr(t.params) for t in resumed.optuna.trials}) == 4


def test_importances_name_their_method_in_the_figure_and_the_report(finished):
    study, _, _ = finished
    fig = new_figure()
    ax = fig.subplots()
    study.plot_importances(ax)
    assert "fANOVA" in ax.get_title()
    assert "importances (fANOVA)" in study.report().read_text()


def test_importances_are_fanova_not_optunas_default_evaluator(tmp_path):
    recipe = search_recipe(**{"search.trials": 4, "search.pruner": "none", "search.sampler": "random",
                              "train.epochs": 1})
    study = lnb.tune(recipe, out=tmp_path, progress=False)
    fanova = optuna.importance.get_param_importances(
        study.optuna, evaluator=optuna.importance.FanovaImportanceEvaluator(seed=recipe.search.seed))
    assert study.importances() == pytest.approx(dict(fanova))


def test_resume_runs_only_the_missing_trials(tmp_path):
    recipe = search_recipe(**{"search.trials": 2, "search.pruner": "none"})
    first = lnb.tune(recipe, out=tmp_path, progress=False)
    assert len(first.trials) == 2
    again = lnb.tune(recipe, out=tmp_path, progress=False, resume=True, trials=3)
    assert list(again.trials.trial) == [0, 1, 2] and set(again.trials.state) == {"complete"}
    done = lnb.tune(recipe, out=tmp_path, progress=False, resume=True, trials=3)  # nothing left to run
    assert len(done.trials) == 3


def test_bad_input_names_field_value_and_allowed(tmp_path):
    with pytest.raises(RecipeError, match="search.space"):
        lnb.tune(lnb.Recipe.default(), out=tmp_path, progress=False)
    with pytest.raises(RecipeError, match="search.trials"):
        lnb.tune(search_recipe(), out=tmp_path, trials=0, progress=False)
    with pytest.raises(RecipeError, match="data.val_fraction"):
        lnb.tune(search_recipe(**{"data.val_fraction": 0.0}), out=tmp_path, progress=False)
    with pytest.raises(UsageError, match="search.storage"):
        lnb.tune(search_recipe(), out=tmp_path, storage="nosuchdb://x", progress=False)


def test_a_crashing_trial_is_failed_with_its_message_and_the_study_goes_on(tmp_path):
    # mlp has no convolution for grad_cam: that trial's recipe is refused, the cnn trial runs
    recipe = search_recipe(space={"model.arch": {"choice": ["cnn", "mlp"]}},
                           **{"interpret.method": "grad_cam", "search.sampler": "grid", "search.trials": 2})
    study = lnb.tune(recipe, out=tmp_path, progress=False)
    table = study.trials.set_index("model.arch")
    assert table.loc["cnn", "state"] == "complete"
    assert table.loc["mlp", "state"] == "fail" and "interpret.method" in table.loc["mlp", "message"]


class PruneAll(optuna.pruners.BasePruner):
    def prune(self, study, trial):
        return True


def test_pruning_stops_the_run_after_the_epoch_it_reports():
    trial = optuna.create_study(pruner=PruneAll(), direction="maximize").ask()
    pruning = TrialPruning(trial, "val_accuracy", "max")
    run = lnb.train(search_recipe(**{"train.epochs": 5}), progress=False, out=None, callbacks=[pruning])
    assert pruning.pruned and run.status == "stopped" and run.epochs_done == 1
    assert list(trial.storage.get_trial(trial._trial_id).intermediate_values) == [0]


def test_stop_ends_the_running_trial_and_the_study_stays_resumable(tmp_path):
    control = Control()
    recipe = search_recipe(**{"train.epochs": 40, "data.limit": 0, "search.trials": 2})
    seen = {}
    thread = threading.Thread(target=lambda: seen.setdefault("study", lnb.tune(
        recipe, out=tmp_path, progress=False, control=control, on_study=lambda s: seen.setdefault("o", s))))
    thread.start()
    assert wait_for(lambda: "o" in seen and any(t.intermediate_values for t in seen["o"].get_trials()))
    control.stop()
    thread.join(HANG_S)
    assert not thread.is_alive()
    table = seen["study"].trials
    assert list(table.state) == ["stopped"] and "stopped" in table.message[0]  # the word the Runs tab uses
    assert seen["study"].optuna.trials[0].state == optuna.trial.TrialState.FAIL  # what Optuna records
    assert seen["study"].counts() == {"stopped": 1}
    assert finished_count(seen["study"].optuna) == 0  # a stopped trial does not use up the budget


def test_cross_validated_trials_report_each_fold(tmp_path):
    recipe = search_recipe(**{"search.cv_folds": 2, "search.trials": 2, "train.epochs": 1})
    study = lnb.tune(recipe, out=tmp_path, progress=False)
    trial = study.optuna.trials[0]
    assert len(trial.user_attrs["cv"]["folds"]) == 2 and list(trial.intermediate_values) == [0, 1]
    assert trial.value == pytest.approx(trial.user_attrs["cv"]["mean"]["accuracy"])


def test_a_diverged_trial_is_pruned_with_its_message(tmp_path, monkeypatch):
    from lepton_nb.search import engine

    real_train = engine.train

    def diverging(recipe, **kwargs):  # as the Trainer ends a run whose loss became NaN after an epoch
        run = real_train(recipe, **kwargs)
        if recipe.train.lr > 0.01:
            run.status, run.message = "diverged", "the loss became nan at epoch 2: lower train.lr"
        return run

    monkeypatch.setattr(engine, "train", diverging)
    recipe = search_recipe(space={"train.lr": {"choice": [0.02, 0.005]}},
                           **{"search.sampler": "grid", "search.trials": 2})
    table = lnb.tune(recipe, out=tmp_path, progress=False).trials.set_index("train.lr")
    assert table.loc[0.02, "state"] == "pruned" and "loss became nan" in table.loc[0.02, "message"]
    assert table.loc[0.005, "state"] == "complete"


def test_cmaes_samples_the_numeric_fields_jointly(tmp_path):
    space = {"train.lr": {"log_uniform": [1e-3, 3e-2]}, "train.weight_decay": {"uniform": [0.0, 0.1]}}
    recipe = search_recipe(space, **{"search.sampler": "cmaes", "search.trials": 4, "search.pruner": "none",
                                     "train.epochs": 1})
    study = lnb.tune(recipe, out=tmp_path, progress=False)
    assert study.counts() == {"complete": 4}
    cma = [t.number for t in study.optuna.trials if any(k.startswith("cma") for k in t.system_attrs)]
    assert cma and min(cma) >= 1  # after the startup trial, CMA-ES proposes both values together


def test_no_trial_is_pruned_during_its_warmup_epochs():
    from lepton_nb.search.space import make_pruner

    section = lnb.Recipe.default().updated({"search.warmup_epochs": 2, "search.startup_trials": 1}).search
    study = optuna.create_study(direction="minimize", pruner=make_pruner(section))
    good = study.ask()
    for epoch in range(4):
        good.report(0.1, epoch)
    study.tell(good, 0.1)
    bad = study.ask()
    decisions = []
    for epoch in range(4):
        bad.report(9.0, epoch)  # far worse than the finished trial at every epoch
        decisions.append(bad.should_prune())
    assert decisions == [False, False, True, True]  # epochs 0 and 1 always finish; from epoch 2 the median rules


def sampled_x(section) -> list[float]:
    """Where TPE samples next after 10 completed trials (the lower x, the worse) and 90 pruned ones."""
    from optuna.distributions import FloatDistribution
    from optuna.trial import TrialState, create_trial

    from lepton_nb.search.space import make_sampler

    dist = {"x": FloatDistribution(0.0, 1.0)}
    study = optuna.create_study(direction="minimize", sampler=make_sampler(section))
    for x in [0.05 + 0.1 * i for i in range(10)]:
        study.add_trial(create_trial(params={"x": x}, distributions=dist, value=(x - 0.95) ** 2))
    for i in range(90):  # pruned everywhere alike: they say nothing about x
        study.add_trial(create_trial(params={"x": i / 89}, distributions=dist, state=TrialState.PRUNED,
                                     intermediate_values={0: 1.0}))
    out = []
    for _ in range(20):
        trial = study.ask()
        out.append(trial.suggest_float("x", 0.0, 1.0))
        study.tell(trial, state=TrialState.FAIL)  # failed trials are left out of TPE's model
    return sorted(out)


def test_with_a_pruner_tpe_models_the_best_completed_trials_not_every_one_that_completed():
    pruned = lnb.Recipe.default().updated({"search.pruner": "median", "search.seed": 3}).search
    unpruned = lnb.Recipe.default().updated({"search.pruner": "none", "search.seed": 3}).search
    focused, spread = sampled_x(pruned), sampled_x(unpruned)
    # good group ⌈¼√100⌉ = 3 (x = 0.75, 0.85, 0.95) against Optuna's 10 % = every completed trial
    assert statistics.median(focused) > 0.75 and min(focused) > 0.5, focused
    assert statistics.median(spread) < statistics.median(focused) - 0.1, spread


def test_tune_with_a_progress_bar_says_when_the_warm_up_leaves_the_pruner_nothing(tmp_path, capsys):
    lnb.tune(search_recipe(**{"search.trials": 1}), out=tmp_path)  # 2 epochs per trial, warm-up 2
    assert "lepton-nb: the median pruner never stops a trial: search.warmup_epochs is 2" in capsys.readouterr().err
    lnb.tune(search_recipe(**{"search.trials": 1, "search.warmup_epochs": 1, "name": "after-the-last"}),
             out=tmp_path)
    assert "only after its last epoch" in capsys.readouterr().err
    lnb.tune(search_recipe(**{"search.trials": 1, "search.warmup_epochs": 0, "name": "pruning-can-act"}),
             out=tmp_path)
    assert "lepton-nb: the median pruner" not in capsys.readouterr().err


def earliest_prune(pruner: str, epochs: int, warmup: int) -> int | None:
    """The first epoch (0-based) at which Optuna's pruner, as the search builds it, stops a far worse trial."""
    from lepton_nb.search.space import make_pruner

    section = lnb.Recipe.default().updated({"search.pruner": pruner, "search.warmup_epochs": warmup,
                                            "search.startup_trials": 1}).search
    study = optuna.create_study(direction="minimize", pruner=make_pruner(section))
    earliest = None
    for i in range(24):
        trial, bad = study.ask(), i >= 6
        for epoch in range(epochs):
            trial.report(9.0 if bad else 0.1 + 0.001 * i, epoch)
            if trial.should_prune() and bad:  # every trial asks: hyperband records its rungs then
                earliest = epoch if earliest is None else min(earliest, epoch)
                study.tell(trial, state=optuna.trial.TrialState.PRUNED)
                break
        else:
            study.tell(trial, 9.0 if bad else 0.1)
    return earliest


@pytest.mark.parametrize("pruner", ["median", "hyperband"])
def test_the_pruning_note_is_said_exactly_when_the_pruner_cannot_save_an_epoch(pruner):
    # before: silent at warmup_epochs = epochs - 1, where the pruner can act only after the last epoch
    from lepton_nb.recipe import pruning_note

    for epochs in (1, 2, 3, 4):
        for warmup in (0, 1, 2, 3):
            first = earliest_prune(pruner, epochs, warmup)
            saves_time = first is not None and first < epochs - 1
            section = lnb.Recipe.default().updated({"search.pruner": pruner, "search.warmup_epochs": warmup}).search
            note = pruning_note(section, epochs)
            assert (note == "") == saves_time, (pruner, epochs, warmup, first, note)
            if note and first == epochs - 1:
                assert "only after its last epoch" in note


def test_a_refused_resume_reaches_the_kernel_whole_from_the_worker_process():
    import pickle

    error = RecipeError([lnb.recipe.Problem("train.epochs", 1, "study 'x' was made with 12")])
    again = pickle.loads(pickle.dumps(error))  # as the studio's worker sends it
    assert again.problems == error.problems and str(again) == str(error)
