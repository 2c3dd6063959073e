import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.test_release_tree import answer_lines

REPO = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_ships_the_front_end_modules(tmp_path):
    pytest.importorskip("hatchling")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(REPO)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (wheel,) = tmp_path.glob("lepton_nb-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for asset in ("access.js", "live_monitor.js", "live_monitor.css", "confusion.js", "confusion.css",
                  "attributions.js", "attributions.css", "studio.css"):
        assert f"lepton_nb/widgets/{asset}" in names
    assert "lepton_nb/ui/studio.py" in names
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
