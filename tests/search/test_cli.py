"""lepton-nb tune: progress over trials, bad arguments exit 2 with one message, workers share one SQLite study,
Ctrl-C keeps the study, a killed worker's trial is failed once its heartbeat is stale, a resume continues."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from optuna.trial import TrialState

from lepton_nb.cli import main
from lepton_nb.search import Study, StudyFolder, finished_count, open_study
from lepton_nb.search.liveness import ENV_GRACE, ENV_HEARTBEAT, stale_message
from lepton_nb.search.workers import worker_command
from tests.conftest import HANG_S
from tests.search.conftest import search_recipe

REPO = Path(__file__).resolve().parents[2]


def recipe_file(tmp_path, **changes) -> str:
    path = tmp_path / "recipe.json"
    search_recipe(**changes).to_file(path)
    return str(path)


def test_tune_shows_progress_and_prints_the_best(tmp_path, capsys):
    assert main(["tune", recipe_file(tmp_path), "--trials", "2", "--out", str(tmp_path / "runs")]) == 0
    out, err = capsys.readouterr()
    assert "trials" in err and "2/2" in err and "best val_accuracy" in err
    assert "best val_accuracy:" in out and "report: " in out
    assert (tmp_path / "runs" / "digits-cnn-search" / "report.html").is_file()
    # 2 epochs per trial and the default warm-up of 2: the pruner cannot act, and the command says so
    assert "lepton-nb: the median pruner never stops a trial: search.warmup_epochs is 2" in err


@pytest.mark.parametrize("args, field", [
    (["--trials", "0"], "search.trials"),
    (["--workers", "0"], "--workers"),
    (["--timeout", "-1"], "search.timeout"),
    (["--storage", "nosuchdb://x"], "search.storage"),
    (["--storage", "postgresql+psycopg://nobody@127.0.0.1:1/db"], "search.storage"),  # no server there
    (["--set", "search.space={}"], "search.space"),
    (["--set", "search.sampler=bayes"], "search.sampler"),
])
def test_bad_arguments_exit_2_with_one_clear_message(tmp_path, capsys, args, field):
    assert main(["tune", recipe_file(tmp_path), "--out", str(tmp_path / "runs"), "--quiet", *args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("lepton-nb: ") and field in err and "allowed" in err and "Traceback" not in err


def test_unparsable_argument_exits_2(tmp_path, capsys):
    with pytest.raises(SystemExit) as info:
        main(["tune", recipe_file(tmp_path), "--trials", "many"])
    assert info.value.code == 2 and "--trials" in capsys.readouterr().err


@pytest.mark.slow
def test_two_workers_on_one_sqlite_file_lose_no_trials(tmp_path, capsys):
    path = recipe_file(tmp_path, **{"search.pruner": "none", "train.epochs": 1})
    assert main(["tune", path, "--trials", "6", "--workers", "2", "--out", str(tmp_path / "runs"), "--quiet"]) == 0
    study = Study.load(tmp_path / "runs" / "digits-cnn-search")
    trials = study.optuna.get_trials()
    assert [t.state for t in trials].count(TrialState.COMPLETE) >= 6  # up to one extra: both may start the last
    assert all(t.state == TrialState.COMPLETE for t in trials)
    assert sorted(t.number for t in trials) == list(range(len(trials)))
    folders = {t.user_attrs["run_folder"] for t in trials}
    assert len(folders) == len(trials) and all(Path(f).is_dir() for f in folders)
    assert len({repr(t.params) for t in trials}) == len(trials)  # workers' samplers are seeded apart


def start_worker(folder: StudyFolder) -> subprocess.Popen:
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    return subprocess.Popen(worker_command(folder, 1), env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def wait_running(study: Study, proc: subprocess.Popen, timeout: float = HANG_S) -> None:
    deadline = time.monotonic() + timeout
    while not any(t.state == TrialState.RUNNING and t.intermediate_values for t in study.optuna.get_trials()):
        assert proc.poll() is None, proc.communicate()[1]
        assert time.monotonic() < deadline, "no trial started"
        time.sleep(0.1)


@pytest.mark.slow
def test_ctrl_c_keeps_the_study_and_a_killed_workers_trial_is_failed_by_a_reader(tmp_path, monkeypatch):
    recipe = search_recipe(**{"train.epochs": 300, "data.limit": 0, "search.trials": 2})
    out = tmp_path / "runs"
    folder = StudyFolder.for_recipe(out, recipe)
    open_study(folder, recipe, resume=False)
    study = Study.load(folder.path)
    proc = start_worker(folder)  # Ctrl-C: the trial stops after its batch, the worker exits 130
    wait_running(study, proc)
    proc.send_signal(signal.SIGINT)
    assert proc.wait(HANG_S) == 130
    assert "Traceback" not in proc.communicate()[1]  # the stopped trial is in the table, not on stderr
    (stopped,) = study.optuna.get_trials()
    assert stopped.state == TrialState.FAIL and "interrupted" in stopped.user_attrs["message"]

    assert Study.load(folder.path).trials.state.tolist() == ["stopped"]  # the word the Runs tab uses

    monkeypatch.setenv(ENV_HEARTBEAT, "1")  # the worker beats every second; a reader's grace is 2 s
    monkeypatch.setenv(ENV_GRACE, "2")
    proc = start_worker(folder)  # killed: its trial stays RUNNING until its heartbeat is stale
    wait_running(study, proc)
    proc.kill()
    proc.wait()
    assert study.optuna.get_trials()[-1].state == TrialState.RUNNING
    time.sleep(3)
    loaded = Study.load(folder.path)  # a reader alone fails it: no resume needed
    assert [t.state for t in loaded.optuna.get_trials()] == [TrialState.FAIL, TrialState.FAIL]
    assert loaded.trials.message[1] == stale_message(2) and "no heartbeat for 2 s" in stale_message(2)
    assert loaded.counts() == {"stopped": 1, "fail": 1} and finished_count(loaded.optuna) == 0


def test_resume_from_the_command_line_replays_no_configuration(tmp_path, capsys):
    path = recipe_file(tmp_path, **{"search.pruner": "none", "search.sampler": "random", "train.epochs": 1})
    out = str(tmp_path / "runs")
    assert main(["tune", path, "--trials", "2", "--out", out, "--quiet"]) == 0
    assert main(["tune", path, "--trials", "4", "--out", out, "--quiet", "--resume"]) == 0
    trials = Study.load(tmp_path / "runs" / "digits-cnn-search").optuna.get_trials()
    assert len(trials) == 4 and len({repr(t.params) for t in trials}) == 4  # before: trials 2, 3 = trials 0, 1


def test_a_resume_with_another_objective_exits_2_naming_it(tmp_path, capsys):
    out = str(tmp_path / "runs")
    assert main(["tune", recipe_file(tmp_path, **{"train.epochs": 1}), "--trials", "1", "--out", out,
                 "--quiet"]) == 0
    capsys.readouterr()
    other = recipe_file(tmp_path, **{"train.epochs": 1, "search.objective": "val_loss"})
    assert main(["tune", other, "--trials", "2", "--out", out, "--quiet", "--resume"]) == 2
    err = capsys.readouterr().err
    assert "search.objective" in err and "val_accuracy" in err and "Traceback" not in err
