import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from lepton_nb.cli import main
from lepton_nb.recipe import Recipe
from tests.conftest import HANG_S, tiny_recipe


def test_recipe_prints_the_default_as_json(capsys):
    assert main(["recipe"]) == 0
    assert Recipe.from_json(capsys.readouterr().out) == Recipe.default()


def test_recipe_preset_to_file(tmp_path, capsys):
    assert main(["recipe", "--preset", "wine", "-o", str(tmp_path / "w.json")]) == 0
    assert Recipe.from_file(tmp_path / "w.json").data.source == "wine"


def test_invalid_recipe_exits_2_listing_every_problem_without_traceback(tmp_path, capsys):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"train": {"lr": 0, "epohcs": 3}, "model": {"arch": "transformer"}}))
    assert main(["run", str(path), "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "3 problems in the recipe" in err
    assert "train.lr: 0 — allowed" in err and "did you mean 'epochs'?" in err and "model.arch" in err
    assert "Traceback" not in err
    assert not any(tmp_path.glob("*/report.html"))


def test_bad_set_and_missing_data_exit_2(tmp_path, capsys):
    r = tiny_recipe().updated({"data.source": "csv", "data.path": str(tmp_path / "nope.csv"),
                               "model.arch": "tabular_mlp", "augment.ops": []})
    r.to_file(tmp_path / "r.json")
    assert main(["run", str(tmp_path / "r.json"), "--out", str(tmp_path), "--quiet"]) == 2
    assert "data.path" in capsys.readouterr().err
    assert main(["run", str(tmp_path / "r.json"), "--set", "oops"]) == 2
    assert "--set: \"oops\" — allowed: KEY=VALUE" in capsys.readouterr().err


def test_run_with_overrides_writes_a_complete_run_folder(tmp_path, capsys):
    tiny_recipe().to_file(tmp_path / "r.json")
    code = main(["run", str(tmp_path / "r.json"), "--out", str(tmp_path / "runs"), "--quiet",
                 "--set", "train.epochs=1", "--set", "name=cli"])
    assert code == 0
    out = capsys.readouterr().out
    (run_dir,) = (tmp_path / "runs").iterdir()
    assert run_dir.name.startswith("cli-")
    assert {"recipe.json", "data.json", "history.json", "metrics.json", "report.html", "checkpoints"} <= {
        p.name for p in run_dir.iterdir()}
    assert f"report: {(run_dir / 'report.html').resolve()}" in out and "accuracy" in out
    assert Recipe.from_file(run_dir / "recipe.json").train.epochs == 1


def test_ctrl_c_stops_cleanly_and_still_writes_the_report(tmp_path):
    recipe = tiny_recipe(train__epochs=500, data__limit=0)
    recipe.to_file(tmp_path / "r.json")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen([sys.executable, "-m", "lepton_nb", "run", str(tmp_path / "r.json"), "--out",
                             str(tmp_path / "runs"), "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, cwd=Path(__file__).resolve().parents[1])
    deadline = time.monotonic() + HANG_S
    while not list(tmp_path.glob("runs/*/checkpoints/last.pt")):
        assert proc.poll() is None and time.monotonic() < deadline, proc.stderr.read() if proc.poll() else "slow"
        time.sleep(0.05)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=HANG_S)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "stopping after this batch" in err
    (run_dir,) = (tmp_path / "runs").iterdir()
    metrics = json.loads((run_dir / "metrics.json").read_text())
    assert metrics["status"] == "stopped" and metrics["test"]["metrics"]["accuracy"] > 0
    assert (run_dir / "report.html").exists() and "stopped" in out


@pytest.mark.slow
def test_demo_reaches_95_percent(tmp_path, capsys):
    assert main(["demo", "--out", str(tmp_path), "--quiet"]) == 0
    out = capsys.readouterr().out
    acc = float(next(line.split()[-1] for line in out.splitlines() if line.strip().startswith("accuracy")))
    assert acc >= 0.95
    assert "report: " in out and next(tmp_path.glob("*/report.html")).stat().st_size > 10_000
