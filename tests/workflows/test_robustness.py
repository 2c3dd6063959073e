"""`lnb.robustness` keeps each run's newest curve: on the run, in robustness.json, in the report, after load_run."""

from __future__ import annotations

import json

import pytest

import lepton_nb as lnb


@pytest.fixture(scope="module")
def run(tmp_path_factory) -> lnb.Run:
    out = tmp_path_factory.mktemp("runs")
    return lnb.train(lnb.Recipe.default().updated({"train.epochs": 1, "name": "robust"}), out=out, progress=False)


def test_curve_is_saved_reported_and_loaded(run):
    (curve,) = lnb.robustness(run, eps=[0.0, 0.1], n=40, methods=("fgsm", "pgd"), steps=5)
    stored = json.loads((run.dir / "robustness.json").read_text())
    assert stored["accuracy"] == curve.accuracy and stored["eps"] == [0.0, 0.1] and stored["n"] == 40
    assert run.extras["robustness"] == curve.to_dict()
    report = (run.dir / "report.html").read_text()
    assert "<h2>Robustness</h2>" in report and "Sanity checks against gradient masking" in report
    assert "<h2>Test metrics</h2>" in report
    loaded = lnb.load_run(run.dir)
    assert loaded.extras["robustness"]["accuracy"] == curve.accuracy
    assert "<h2>Robustness</h2>" in loaded.report(run.dir / "again.html").read_text()


def test_a_damaged_curve_file_does_not_keep_the_run_from_loading(run):
    lnb.robustness(run, eps=[0.0, 0.1], n=20, methods=("fgsm",), checks=False)
    for damage in ("{not json", json.dumps({"eps": [0.1]}), "[]"):
        (run.dir / "robustness.json").write_text(damage)
        loaded = lnb.load_run(run.dir)
        assert "robustness" not in loaded.extras
        assert "<h2>Robustness</h2>" not in loaded.report(run.dir / "damaged.html").read_text()


def test_several_runs_each_keep_their_own_curve(run, tmp_path):
    other = lnb.train(lnb.Recipe.default().updated({"train.epochs": 1, "name": "other", "train.seed": 1}), out=tmp_path,
                      progress=False)
    curves = lnb.robustness([run, other], eps=[0.0, 0.05], n=30, methods=("pgd",), steps=3, checks=False)
    assert [c.run for c in curves] == [run.name, other.name]
    assert json.loads((other.dir / "robustness.json").read_text())["run"] == other.name


def test_without_save_nothing_is_written(tmp_path):
    run = lnb.train(lnb.Recipe.default().updated({"train.epochs": 1, "name": "nosave"}), out=tmp_path,
                    progress=False)
    lnb.robustness(run, eps=[0.0, 0.05], n=20, methods=("fgsm",), checks=False, save=False)
    assert not (run.dir / "robustness.json").exists() and "robustness" in run.extras
