"""The student release carries no answer and keeps the checks; the keys keep every answer; bad sources are refused."""

from __future__ import annotations

import json

import nbformat
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lepton_nb.classroom import release
from lepton_nb.classroom.cells import BEGIN_SOLUTION, END_SOLUTION, key_cell, student_cell
from lepton_nb.cli import main
from lepton_nb.errors import UsageError
from tests.classroom.conftest import ANSWER, CHECK, STUB, nbgrader, write_source


def test_release_strips_answers_keeps_checks_and_writes_keys(tmp_path):
    source = write_source(tmp_path / "source")
    result = release(source, tmp_path / "students", tmp_path / "keys")
    student = nbformat.read(tmp_path / "students" / "tiny.ipynb", as_version=4)
    key = nbformat.read(tmp_path / "keys" / "tiny.ipynb", as_version=4)
    text = json.dumps(student)
    assert ANSWER not in text and "BEGIN" not in text and "Because." not in text
    assert "a hidden test ran" not in text
    assert student.cells[3].source == STUB  # the starting lines stay, the answer goes
    assert student.cells[4].source == "Why?\nYOUR ANSWER HERE"
    assert student.cells[5].source == CHECK and student.cells[5].metadata["nbgrader"]["points"] == 2
    assert key.cells[3].source == f"{STUB}\n{ANSWER}" and "a hidden test ran" in key.cells[1].source
    assert "BEGIN" not in json.dumps(key)
    assert (tmp_path / "students" / "notes.txt").is_file() and (tmp_path / "keys" / "notes.txt").is_file()
    (plan,) = result.notebooks
    assert plan.checks == {"check-environment": 2, "check-mean": 2} and plan.solutions == ["answer", "why"]
    assert "tiny.ipynb" in str(result) and "4 points" in str(result)


def test_a_solution_cell_without_markers_is_all_answer():
    cell = nbformat.v4.new_code_cell("x = 42", metadata=nbgrader("a", solution=True))
    assert student_cell(cell, "nb cell 1").source == "# YOUR CODE HERE"


@pytest.mark.parametrize("source, meta, message", [
    ("### BEGIN SOLUTION\nx = 1", nbgrader("a", solution=True), "is never closed"),
    ("x = 1\n### END SOLUTION", nbgrader("a", solution=True), "closes a region never opened"),
    ("### BEGIN SOLUTION\nx\n### END SOLUTION", {}, "not marked as a solution"),
    ("### BEGIN HIDDEN TESTS\nx\n### END HIDDEN TESTS", nbgrader("a", solution=True), "not marked as graded"),
    ("check()", nbgrader("c", grade=True, locked=True), "needs points"),
    ("x", nbgrader("", solution=True), "needs a grade_id"),
])
def test_a_malformed_source_is_refused_naming_the_cell_and_nothing_is_written(tmp_path, source, meta, message):
    folder = write_source(tmp_path / "source")
    nb = nbformat.read(folder / "tiny.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(source, metadata=meta))
    nbformat.write(nb, folder / "tiny.ipynb")
    with pytest.raises(UsageError, match=message) as err:
        release(folder, tmp_path / "students", tmp_path / "keys")
    assert "tiny.ipynb cell 7" in str(err.value)
    assert not (tmp_path / "students").exists() and not (tmp_path / "keys").exists()


def test_keys_inside_the_student_folder_are_refused(tmp_path):
    folder = write_source(tmp_path / "source")
    with pytest.raises(UsageError, match="students would get the answers"):
        release(folder, tmp_path / "students", tmp_path / "students" / "answers")
    with pytest.raises(UsageError, match="overlaps the source"):
        release(folder, folder / "release")


def test_the_command_writes_the_release_and_says_where(tmp_path, capsys):
    folder = write_source(tmp_path / "source")
    code = main(["class", "release", str(folder), "--students", str(tmp_path / "s"), "--keys", str(tmp_path / "k")])
    out = capsys.readouterr().out
    assert code == 0 and "student release:" in out and "answer keys" in out and (tmp_path / "k/tiny.ipynb").exists()
    assert main(["class", "release", str(tmp_path / "nowhere"), "--students", str(tmp_path / "s2")]) == 2
    assert "source:" in capsys.readouterr().err


line = st.text(alphabet=st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=30).filter(
    lambda s: s.strip() not in (BEGIN_SOLUTION, END_SOLUTION) and s.strip())
lines = st.lists(line, max_size=5)


@settings(max_examples=60, deadline=None)
@given(lines, lines, lines)
def test_the_release_keeps_what_is_outside_the_markers_and_the_key_keeps_everything(before, answer, after):
    source = "\n".join([*before, BEGIN_SOLUTION, *answer, END_SOLUTION, *after])
    cell = nbformat.v4.new_code_cell(source, metadata=nbgrader("a", solution=True))
    student = student_cell(cell, "nb cell 1").source
    assert student.splitlines() == ([*before, *after] or ["# YOUR CODE HERE"])
    assert key_cell(cell, "nb cell 1").source.splitlines() == [*before, *answer, *after]
