import pkgutil
import subprocess
import sys

import lepton_nb

# every module outside ui/, found by walking the package (a new module is covered without editing this list)
CORE = sorted(m.name for m in pkgutil.walk_packages(lepton_nb.__path__, "lepton_nb.")
              if not m.name.startswith("lepton_nb.ui") and m.name != "lepton_nb.__main__")


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
