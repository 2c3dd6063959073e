"""The command line's last line of defence: bad input exits 2 with one clear message, a bug exits 1 with a short
note and the traceback in a log file, never on the terminal."""

from pathlib import Path

import pytest

from lepton_nb import cli
from lepton_nb.cli import main
from tests.conftest import tiny_recipe


@pytest.fixture
def recipe_file(tmp_path):
    return str(tiny_recipe().to_file(tmp_path / "r.json"))


@pytest.mark.parametrize("value", ["1" + "0" * 400, "9" * 5000, "[" * 100_000, "1e400", "nan"])
def test_set_values_too_large_or_deep_for_json_are_recipe_errors(recipe_file, tmp_path, capsys, value):
    assert main(["run", recipe_file, "--out", str(tmp_path / "runs"), "--set", f"train.lr={value}"]) == 2
    err = capsys.readouterr().err
    assert "train.lr: " in err and "allowed: a" in err and "Traceback" not in err and len(err) < 600
    assert not (tmp_path / "runs").exists()


@pytest.mark.parametrize("folds", ["1", "-3", "51"])
def test_cv_folds_outside_2_to_50_exit_2(capsys, folds):
    assert main(["cv", "--folds", folds, "--quiet"]) == 2
    assert f"--folds: {folds} — allowed: a whole number from 2 to 50" in capsys.readouterr().err


def test_an_unexpected_exception_prints_a_short_note_and_logs_the_traceback(recipe_file, monkeypatch, capsys):
    def broken(*args, **kwargs):
        raise ZeroDivisionError("simulated bug")

    monkeypatch.setattr(cli, "_train_and_report", broken)
    assert main(["run", recipe_file]) == 1
    err = capsys.readouterr().err
    assert "internal error (ZeroDivisionError: simulated bug); please report it" in err
    assert "Traceback" not in err and len(err.splitlines()) == 1
    log = err.strip().rsplit(" ", 1)[-1]
    text = Path(log).read_text(encoding="utf-8")
    assert "Traceback" in text and "simulated bug" in text and "run " in text


@pytest.mark.parametrize("argv", [["export", "\x00"], ["export", "a" * 5000], ["run", "\x00"], ["run", "a" * 5000],
                                  ["recipe", "-o", "\x00"], ["recipe", "-o", "/proc/no/such/dir/r.json"],
                                  ["optimize", "a" * 300], ["ensemble", "\x00", "b"]])
def test_paths_no_file_system_accepts_exit_2_with_a_short_message(argv, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "internal error" not in err and len(err) < 600
