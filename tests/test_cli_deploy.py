"""`lepton-nb export`, `optimize` and `ensemble`: tables on stdout, bad input → exit 2 with the reason."""

import json

from lepton_nb.cli import main


def test_export_onnx_and_torchscript(digits_run, tmp_path, capsys):
    assert main(["export", str(digits_run.dir), "--format", "onnx", "-o", str(tmp_path / "m.onnx")]) == 0
    out = capsys.readouterr().out
    assert "max abs difference" in out and "onnxruntime" in out and (tmp_path / "m.onnx").is_file()
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["check"]["max_abs_diff"] < 1e-4
    assert main(["export", str(digits_run.dir), "--format", "torchscript", "-o", str(tmp_path / "m.pt"),
                 "--checkpoint", "best"]) == 0
    assert "torchscript export" in capsys.readouterr().out


def test_optimize_prints_the_comparison_table(digits_run, capsys):
    assert main(["optimize", str(digits_run.dir), "--prune", "0.5", "0.8", "--no-save"]) == 0
    out = capsys.readouterr().out
    for name in ("original (float32)", "int8 weights", "pruned 50% (global)", "pruned 80% (global)"):
        assert name in out
    assert "written:" not in out
    assert main(["optimize", str(digits_run.dir), "--quantize", "none", "--prune", "none"]) == 2
    assert "nothing to compare" in capsys.readouterr().err


def test_ensemble_of_run_folders(digits_run, tmp_path, capsys):
    assert main(["ensemble", str(digits_run.dir), str(digits_run.dir), "--weights", "1", "3"]) == 0
    out = capsys.readouterr().out
    assert "ensemble of 2 runs on the test split" in out and "accuracy" in out


def test_bad_arguments_exit_2_naming_the_argument(digits_run, tmp_path, capsys):
    cases = [
        (["export", str(tmp_path / "nope")], "run: "),
        (["export", str(digits_run.dir), "--checkpoint", "newest"], "checkpoint: 'newest'"),
        (["optimize", str(digits_run.dir), "--prune", "half"], "--prune: 'half' — allowed: fractions"),
        (["optimize", str(digits_run.dir), "--prune", "2"], "amount: 2.0 — allowed"),
        (["ensemble", str(digits_run.dir)], "runs: 1 — allowed: two or more runs"),
        (["ensemble", str(digits_run.dir), str(digits_run.dir), "--weights", "1"], "weights: [1.0]"),
    ]
    for argv, expected in cases:
        assert main(argv) == 2, argv
        err = capsys.readouterr().err
        assert expected in err and "Traceback" not in err, (argv, err)
