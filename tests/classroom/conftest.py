"""A tiny exercise written the nbgrader way: locked setup, solution cells, two check cells (a teacher's own
checks with `lepton_nb.feedback.Feedback`; no torch, so a kernel grades it in seconds)."""

from __future__ import annotations

from pathlib import Path

import nbformat


def nbgrader(grade_id: str, *, solution: bool = False, grade: bool = False, locked: bool = False,
             points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


SETUP = "values = [3, 1, 4, 1, 5, 9, 2, 6]"

STUB = "mean = None  # the mean of values"

ANSWER = "mean = sum(values) / len(values)"

ENVIRONMENT = """import random, socket
from lepton_nb.feedback import Feedback
first = random.random()
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
    refused = ""
except OSError as exc:
    refused = str(exc)
fb = Feedback("environment", {"seeded": "Python's random is seeded", "offline": "no network"})
fb.ok("seeded", first == 0.8444218515250481, "seeded with 0", f"first draw {first}")
fb.ok("offline", "grading runs offline" in refused, "offline", f"the connection gave {refused!r}")
### BEGIN HIDDEN TESTS
fb.ok("hidden", True, "a hidden test ran", "")
### END HIDDEN TESTS
fb.finish()"""

CHECK = """from lepton_nb.feedback import Feedback
fb = Feedback("mean", {"number": "mean is a number", "value": "mean is the mean of values"})
if fb.ok("number", isinstance(mean, (int, float)), "mean is a number", "set mean to a number"):
    fb.ok("value", abs(mean - 3.875) < 1e-9, f"mean = {mean}", f"mean is {mean}: divide the sum by len(values)")
fb.finish()"""


def write_source(folder: Path) -> Path:
    """``folder/tiny.ipynb`` (and a data file beside it); returns the folder."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_markdown_cell("# A tiny exercise", metadata=nbgrader("intro", locked=True)),
        nbformat.v4.new_code_cell(ENVIRONMENT, metadata=nbgrader("check-environment", grade=True, locked=True,
                                                                 points=2)),
        nbformat.v4.new_code_cell(SETUP, metadata=nbgrader("setup", locked=True)),
        nbformat.v4.new_code_cell(f"{STUB}\n### BEGIN SOLUTION\n{ANSWER}\n### END SOLUTION",
                                  metadata=nbgrader("answer", solution=True)),
        nbformat.v4.new_markdown_cell("Why?\n### BEGIN SOLUTION\nBecause.\n### END SOLUTION",
                                      metadata=nbgrader("why", solution=True)),
        nbformat.v4.new_code_cell(CHECK, metadata=nbgrader("check-mean", grade=True, locked=True, points=2)),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "tiny.ipynb")
    (folder / "notes.txt").write_text("data the exercise reads\n")
    return folder
