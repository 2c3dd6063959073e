import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import HANG_S
from tests.test_release_tree import answer_lines

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_front_end_modules(tmp_path):
    pytest.importorskip("hatchling")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=HANG_S)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("lepton_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("access.js", "live_monitor.js", "live_monitor.css", "confusion.js", "confusion.css",
                  "attributions.js", "attributions.css", "studio.css"):
        assert f"lepton_nb/widgets/{asset}" in names
    assert "lepton_nb/ui/studio.py" in names
    for name in ("conf.json", "index.html.j2"):  # installed where Voilà looks for templates
        assert f"lepton_nb-0.1.0.data/data/share/jupyter/voila/templates/lepton_nb/{name}" in names
    assert "lepton_nb/widgets/plotly-cartesian.min.js.gz" in names  # reports draw offline
    # what pip serves students carries no answer: no notebook at all, no teacher folder
    assert not [n for n in names if n.endswith(".ipynb") or n.startswith("teacher/")]
    answers = answer_lines()
    with zipfile.ZipFile(wheel) as wheel_zip:
        for name in names:
            if not name.endswith((".gz", ".png", ".pt", ".npz")):
                lines = {line.strip() for line in wheel_zip.read(name).decode("utf-8", "replace").splitlines()}
                assert lines & answers == set(), name
    assert any(n.endswith("entry_points.txt") for n in names)


def test_dashboards_use_the_template_that_asks_nothing_of_a_cdn():
    """Voilà's lab template links Font Awesome from cdn.jsdelivr.net (its own bundle already has the icon font);
    ours removes exactly those links, and every tutorial picks it in its metadata."""
    import json
    import re

    from jupyter_core.paths import jupyter_path

    found = [Path(p) / "voila" / "templates" / "lab" for p in jupyter_path()
             if (Path(p) / "voila" / "templates" / "lab" / "index.html.j2").is_file()]
    if not found:
        pytest.skip("Voilà is not installed (a dev dependency)")
    share = found[0]
    theirs = (share / "index.html.j2").read_text()
    ours = (REPO / "share" / "jupyter" / "voila" / "templates" / "lepton_nb" / "index.html.j2").read_text()
    removed = re.findall(r"filter replace\('(.*?)', ''\)", ours)
    outside = re.findall(r"<link [^>]*https?://[^>]*>", theirs)
    assert outside and sorted(outside) == sorted(removed)  # every outside link of the lab template, no more
    for notebook in sorted((REPO / "notebooks").glob("*.ipynb")):
        assert json.loads(notebook.read_text())["metadata"]["voila"] == {"template": "lepton_nb"}, notebook.name
