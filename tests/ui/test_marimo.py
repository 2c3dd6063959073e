"""The studio in marimo, headless through marimo's own export: the whole studio, carried by one anywidget.

The page's drawing is checked in a real browser in tests/browser/test_marimo_browser.py."""

import subprocess
import sys

import pytest

from tests.conftest import HANG_S

pytest.importorskip("marimo")

NOTEBOOK = '''import marimo

app = marimo.App()


@app.cell
def _():
    import lepton_nb as lnb
    studio = lnb.Studio(lnb.Recipe.default().updated({"data.limit": 300}), out=None, worker="thread")
    studio
    return


if __name__ == "__main__":
    app.run()
'''


@pytest.mark.slow
def test_the_export_holds_the_whole_studio_as_displayed(tmp_path):
    (tmp_path / "studio_nb.py").write_text(NOTEBOOK)
    proc = subprocess.run([sys.executable, "-m", "marimo", "export", "html", "studio_nb.py", "-o", "out.html"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=HANG_S)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "marimo-anywidget" in page and "_boot" in page  # the bridge, with the state saved at display
    for shown in ("TabModel", "Augmentation", "Runs", "learning rate", "lnb-monitor"):  # tabs, forms, monitor
        assert shown in page, shown
    assert "Studio object at" not in page
