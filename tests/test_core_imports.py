import subprocess
import sys

CORE = ["lepton_nb", "lepton_nb.recipe", "lepton_nb.data", "lepton_nb.models", "lepton_nb.train.trainer",
        "lepton_nb.train.session", "lepton_nb.evaluate", "lepton_nb.run", "lepton_nb.report", "lepton_nb.cli",
        "lepton_nb.predict", "lepton_nb.deploy", "lepton_nb.optimize", "lepton_nb.ensemble", "lepton_nb.distributed",
        "lepton_nb.finetune", "lepton_nb.interpret", "lepton_nb.interpret.attribution",
        "lepton_nb.interpret.probes", "lepton_nb.plotting", "lepton_nb.plotting.attributions", "lepton_nb.exercises",
        "lepton_nb.datasets", "lepton_nb.warmup", "lepton_nb.train.lr_find"]


def test_core_imports_no_ui_library():
    code = (
        "import sys\n"
        "for name in ('ipywidgets', 'IPython', 'anywidget', 'plotly', 'traitlets'):\n"
        "    sys.modules[name] = None  # any import of these now fails\n"
        f"for mod in {CORE!r}:\n"
        "    __import__(mod)\n"
        "import lepton_nb as lnb\n"
        "run = lnb.train(lnb.Recipe.default().updated({'train.epochs': 1, 'data.limit': 300}), progress=True,"
        " out=None)\n"
        "print(run.status)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "completed"
