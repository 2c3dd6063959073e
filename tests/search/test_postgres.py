"""One search on two machines sharing a real PostgreSQL server: two `lepton-nb tune` processes with their own
``--out`` folders join one study; one is killed with SIGKILL mid-trial. The other finishes the budget, no
configuration is evaluated twice, the dead trial is failed (no heartbeat), and both folders name the same best.
"""

from __future__ import annotations

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from lepton_nb.errors import UsageError
from lepton_nb.search import Study, finished_count, open_storage
from lepton_nb.search.liveness import ENV_GRACE, ENV_HEARTBEAT
from tests.conftest import HANG_S
from tests.search.conftest import search_recipe
from tests.search.postgres import postgres_server

REPO = Path(__file__).resolve().parents[2]
TRIALS = 4
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def postgres_url():
    with postgres_server() as url:
        yield url


def tune(recipe: Path, out: Path, url: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "lepton_nb", "tune", str(recipe), "--storage", url, "--out",
                             str(out), "--quiet"], env=env, cwd=REPO, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def test_two_machines_share_one_study_and_a_killed_ones_trial_is_failed(tmp_path, postgres_url, monkeypatch):
    monkeypatch.setenv(ENV_HEARTBEAT, "1")  # this process reads the study with the machines' grace period
    monkeypatch.setenv(ENV_GRACE, "3")
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    recipe = tmp_path / "recipe.json"
    search_recipe(**{"search.trials": TRIALS, "search.pruner": "none", "train.epochs": 5,
                     "data.limit": 400}).to_file(recipe)
    out_a, out_b = tmp_path / "machine-a", tmp_path / "machine-b"
    a, b = tune(recipe, out_a, postgres_url, env), tune(recipe, out_b, postgres_url, env)
    try:
        study = None
        deadline = time.monotonic() + HANG_S  # a hang guard only
        while True:  # machine A is killed while one of its trials trains (an epoch reported, not finished)
            assert a.poll() is None and b.poll() is None, (a.poll(), b.poll(), a.stderr and b.stderr)
            assert time.monotonic() < deadline, "machine A never trained a trial"
            if study is None:
                try:
                    study = optuna.load_study(study_name="digits-cnn", storage=open_storage(postgres_url))
                except KeyError:  # not created yet
                    time.sleep(0.2)
                    continue
            mine = [t for t in study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
                    if t.user_attrs.get("run_folder", "").startswith(str(out_a)) and t.intermediate_values]
            if mine:
                a.send_signal(signal.SIGKILL)
                killed = mine[0].number
                break
            time.sleep(0.1)
        a.wait(HANG_S)
        _, err = b.communicate(timeout=HANG_S)
        assert b.returncode == 0, err  # the other machine finishes
    finally:
        for p in (a, b):
            if p.poll() is None:
                p.kill()
                p.wait()

    from_b, from_a = Study.load(out_b / "digits-cnn-search"), Study.load(out_a / "digits-cnn-search")
    trials = from_b.optuna.get_trials()
    assert finished_count(from_b.optuna) >= TRIALS  # the budget is reached
    assert len({repr(t.params) for t in trials}) == len(trials)  # no configuration evaluated twice
    dead = next(t for t in trials if t.number == killed)
    assert dead.state == TrialState.FAIL and "no heartbeat for 3 s" in from_b.trials.set_index("trial").loc[
        killed, "message"]
    assert "running" not in from_b.counts() and "running" not in from_a.counts()
    assert from_a.best_trial.number == from_b.best_trial.number  # both folders name the same best trial
    with (out_b / "digits-cnn-search" / "trials.csv").open() as f:  # the report the survivor wrote at its end
        states = {int(r["trial"]): r["state"] for r in csv.DictReader(f)}
    assert states[killed] == "fail" and "running" not in states.values()
    report = (out_b / "digits-cnn-search" / "report.html").read_text()
    assert "no heartbeat for 3 s" in report and f"(trial {from_b.best_trial.number})" in report


def test_plain_postgresql_urls_and_a_missing_driver_are_answered_with_the_extra(tmp_path, postgres_url,
                                                                                 monkeypatch):
    import importlib.util

    plain = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name.startswith("psycopg") else
                        real(name, *a))
    with pytest.raises(UsageError, match=r"psycopg2.*postgresql\+psycopg://.*lepton_nb\[postgres\]"):
        open_storage(plain)
    with pytest.raises(UsageError, match=r"lepton_nb\[postgres\]"):
        open_storage(postgres_url)
