"""The autograder on three fake submissions (right, wrong, one that raises) and a missing one: check cells put
back, results read from check cells only, a gradebook with check names and hints; and a notebook that runs
past the time limit."""

from __future__ import annotations

import csv

import nbformat
import pytest

from lepton_nb.classroom import grade, release, write_gradebook
from lepton_nb.cli import main
from lepton_nb.feedback import MIME
from tests.classroom.conftest import ANSWER, write_source

pytestmark = pytest.mark.slow

FAKE_PASS = ("from IPython.display import display\n"
             f"display({{'{MIME}': {{'exercise': 'mean', 'checks': "
             "[{'name': 'x', 'passed': True, 'text': 'faked'}]}}, raw=True)")


def submit(students, release_dir, student: str, answer: str, check: str | None = None) -> None:
    """A copy of the student notebook with the answer cell (and maybe the check cell) replaced."""
    nb = nbformat.read(release_dir / "tiny.ipynb", as_version=4)
    nb.cells[3].source = answer
    if check is not None:
        nb.cells[5].source = check
    folder = students / student / "exercises"
    folder.mkdir(parents=True)
    nbformat.write(nb, folder / "tiny.ipynb")


def rows(path) -> list[dict]:
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_grading_three_submissions_into_a_gradebook(tmp_path):
    release(write_source(tmp_path / "source"), tmp_path / "release", tmp_path / "keys")
    subs = tmp_path / "submissions"
    submit(subs, tmp_path / "release", "ann", ANSWER)  # right
    wrong = "mean = sum(values) / 2\n" + FAKE_PASS  # a wrong mean, and a faked result in the student's own cell
    submit(subs, tmp_path / "release", "bob", wrong, check="print('all checks passed')")  # edited check: put back
    submit(subs, tmp_path / "release", "cat", "raise RuntimeError('my code is broken')")  # raises
    (subs / "dan").mkdir()  # handed in nothing
    graded = grade(subs, tmp_path / "keys", tmp_path / "graded", timeout=120)
    book, checks = write_gradebook(graded, tmp_path / "graded")
    by = {r["student"]: r for r in rows(book)}
    assert [r["status"] for r in by.values()] == ["graded", "graded", "graded", "missing"]
    assert (by["ann"]["points"], by["ann"]["max_points"]) == ("4.0", "4.0")  # 2 (environment) + 2 (mean)
    assert by["ann"]["checks_passed"] == by["ann"]["checks_total"] == "5" and by["ann"]["missing"] == ""
    # bob: a number, but not the mean; his faked output and edited check cell count for nothing
    assert by["bob"]["checks_passed"] == "4" and by["bob"]["points"] == "3.0"  # 2 + 2 × 1/2
    assert "value: mean is 15.5: divide the sum by len(values)" in by["bob"]["missing"]
    assert "faked" not in by["bob"]["missing"]
    assert by["cat"]["points"] == "2.0"  # the check cell could not run: no points for it
    assert "RuntimeError: my code is broken" in by["cat"]["error"]
    assert "check-mean: NameError" in by["cat"]["error"]
    assert "no tiny.ipynb" in by["dan"]["error"] and by["dan"]["points"] == "0.0"
    long = rows(checks)
    assert {r["check"] for r in long if r["student"] == "ann"} == {"number", "value", "seeded", "offline", "hidden"}
    assert all(r["passed"] == "1" for r in long if r["student"] == "ann")
    feedback = nbformat.read(tmp_path / "graded/feedback/bob/tiny.ipynb", as_version=4)
    assert feedback.cells[5].source.startswith("from lepton_nb.feedback import Feedback")
    assert not any("YOUR" in c.source for c in feedback.cells if c.cell_type == "code")


def test_a_notebook_past_the_time_limit_is_stopped(tmp_path, capsys):
    release(write_source(tmp_path / "source"), tmp_path / "release", tmp_path / "keys")
    submit(tmp_path / "subs", tmp_path / "release", "eve", "while True:\n    pass")
    nb = nbformat.read(tmp_path / "subs/eve/exercises/tiny.ipynb", as_version=4)
    nb.cells = [nb.cells[3]]  # only the endless loop: no imports before it, so the limit is the loop's
    nbformat.write(nb, tmp_path / "subs/eve/exercises/tiny.ipynb")
    code = main(["class", "grade", str(tmp_path / "subs"), "--keys", str(tmp_path / "keys"), "--out",
                 str(tmp_path / "out"), "--timeout", "8"])
    out = capsys.readouterr().out
    assert code == 0 and "timeout" in out and "gradebook:" in out
    (row,) = rows(tmp_path / "out/gradebook.csv")
    assert row["status"] == "timeout" and "time limit of 8 s" in row["error"] and row["points"] == "0.0"
    assert "restored the teacher's cell(s)" in row["error"]


def test_the_preamble_seeds_torch_when_a_notebook_imports_it():
    import subprocess
    import sys

    from lepton_nb.classroom.grader import PREAMBLE

    after = "import sys\nprint('torch' in sys.modules)\nimport torch\nprint(torch.initial_seed())"
    code = PREAMBLE.format(seed=0) + after
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.stdout.split() == ["False", "0"], out.stderr
