"""A tiny exercise written the nbgrader way: locked setup, a solution cell, our check cells."""

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


SETUP = """import lepton_nb as lnb
recipe = lnb.Recipe.default().updated({"data.limit": 300, "train.epochs": 1, "model.width": 8, "model.hidden": 32,
                                       "interpret.enabled": False})
run = lnb.train(recipe, progress=False, out=None)"""

STUB = """index = None  # a misclassified test index
explanation = None  # lnb.explain(run, ...)
answer = ""  # what did the model look at?"""

ANSWER = """index = int(run.evaluation.misclassified()[0])
explanation = lnb.explain(run, run.data.inputs("test")[[index]], method="integrated_gradients", n_steps=200)
answer = "the strokes in red pushed the model towards the wrong class it chose for this digit\""""

ENVIRONMENT = """import random, socket
import lepton_nb as lnb
first = random.random()
try:
    socket.create_connection(("192.0.2.1", 80), timeout=2)
    refused = ""
except OSError as exc:
    refused = str(exc)
fb = lnb.exercises.Feedback("environment", {"seeded": "Python's random is seeded", "offline": "no network"})
fb.ok("seeded", first == 0.8444218515250481, "seeded with 0", f"first draw {first}")
fb.ok("offline", "grading runs offline" in refused, "offline", f"the connection gave {refused!r}")
### BEGIN HIDDEN TESTS
fb.ok("hidden", True, "a hidden test ran", "")
### END HIDDEN TESTS
fb.finish()"""

CHECK = ('lnb.exercises.check("explain_misclassified", run=run, index=index, explanation=explanation, '
         'answer=answer)')


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
        nbformat.v4.new_code_cell(CHECK, metadata=nbgrader("check-explain", grade=True, locked=True, points=7)),
    ]
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / "tiny.ipynb")
    (folder / "notes.txt").write_text("data the exercise reads\n")
    return folder
