import pkgutil
import subprocess
import sys
from pathlib import Path

import lepton_nb
from tests.conftest import HANG_S

# every module outside ui/, found by walking the package (a new module is covered without editing this list)
CORE = sorted(m.name for m in pkgutil.walk_packages(lepton_nb.__path__, "lepton_nb.")
              if not m.name.startswith("lepton_nb.ui") and m.name != "lepton_nb.__main__")


def test_core_imports_no_ui_library():
    code = (
        "import sys\n"
        # traitlets stays importable: nbformat (the classroom's notebook files) is built on it; it draws nothing
        "for name in ('ipywidgets', 'IPython', 'anywidget', 'plotly'):\n"
        "    sys.modules[name] = None  # any import of these now fails\n"
        f"for mod in {CORE!r}:\n"
        "    __import__(mod)\n"
        "import lepton_nb as lnb\n"
        "run = lnb.train(lnb.Recipe.default().updated({'train.epochs': 1, 'data.limit': 300}), progress=True,"
        " out=None)\n"
        "print(run.status)\n"
    )
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_S)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "completed"


def run_code(code: str) -> str:
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=HANG_S)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def test_importing_the_package_loads_nothing_heavy_and_every_name_resolves():
    out = run_code(
        "import sys\n"
        "import lepton_nb as lnb\n"
        "heavy = ('torch', 'numpy', 'matplotlib', 'pandas', 'sklearn', 'captum', 'optuna')\n"
        "print([m for m in heavy if m in sys.modules])\n"
        "lnb.Control\n"  # loads the subpackage lepton_nb.training; lnb.train stays the function
        "import lepton_nb.evaluation.metrics\n"
        "assert all(getattr(lnb, name) is not None for name in lnb.__all__)\n"
        "print(type(lnb.train).__name__, type(lnb.evaluate).__name__, type(lnb.plotting).__name__)\n")
    assert out.splitlines() == ["[]", "function function module"]


def test_a_training_worker_loads_neither_matplotlib_nor_captum():
    # the worker process of a studio holds only what training needs (memory: kernel + worker ≤ 1.5 GB)
    out = run_code(
        "import sys\n"
        "import lepton_nb.workflows.session.serve\n"
        "from lepton_nb.warmup import warm_up\n"
        "warm_up()\n"
        "import lepton_nb as lnb\n"
        "run = lnb.train(lnb.Recipe.default().updated({'train.epochs': 1, 'data.limit': 300}), progress=False,"
        " out=None, report=False)\n"
        "assert run.history.artifacts['attributions']  # the default probes ran\n"
        "print([m for m in ('matplotlib', 'captum', 'ipywidgets', 'optuna', 'plotly') if m in sys.modules])\n")
    assert out == "[]"


def test_the_type_checking_imports_agree_with_the_one_export_list():
    import ast

    import lepton_nb

    tree = ast.parse(Path(lepton_nb.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and getattr(node.test, "id", "") ==
                 "TYPE_CHECKING")
    seen: dict[str, set[str]] = {}
    for node in block.body:
        assert isinstance(node, ast.ImportFrom) and node.level == 1
        module = "lepton_nb" + (f".{node.module}" if node.module else "")
        seen.setdefault(module, set()).update(alias.name for alias in node.names)
    assert seen == {module: set(names) for module, names in lepton_nb.EXPORTS.items()}
    assert lepton_nb.__all__ == sorted(name for names in lepton_nb.EXPORTS.values() for name in names)


def test_writing_an_interactive_report_loads_no_plotly(tmp_path):
    # the studio's worker writes run reports: their charts are plotly.js JSON, written without plotly.py
    out = run_code(
        "import sys\n"
        "import lepton_nb as lnb\n"
        "run = lnb.train(lnb.Recipe.default().updated({'train.epochs': 1, 'data.limit': 300,"
        " 'interpret.enabled': False}), progress=False, out=" + repr(str(tmp_path)) + ")\n"
        "html = (run.dir / 'report.html').read_text()\n"
        "print(html.count(\"class='lnb-chart'\"), 'plotly' in sys.modules)\n")
    assert out == "5 False"
