"""The studio in marimo, headless through marimo's own export: the live monitor and an honest note, no bare repr."""

import subprocess
import sys

import pytest

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
def test_studio_shows_its_live_monitor_and_says_what_marimo_cannot_show(tmp_path):
    (tmp_path / "studio_nb.py").write_text(NOTEBOOK)
    proc = subprocess.run([sys.executable, "-m", "marimo", "export", "html", "studio_nb.py", "-o", "out.html"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    page = (tmp_path / "out.html").read_text(encoding="utf-8")
    assert "marimo-anywidget" in page and "lnb-monitor" in page  # the live monitor, as an anywidget
    assert "marimo draws anywidgets, not ipywidgets" in page  # what is not shown, said where one looks
    assert "Studio object at" not in page
