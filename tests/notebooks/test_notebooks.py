"""Every tutorial and exercise notebook executes headless (nbclient) without an error output; the student
exercises are the release of the teacher's source notebooks (teacher/exercises), whose answers pass every check."""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

REPO = Path(__file__).resolve().parents[2]
NOTEBOOKS = REPO / "notebooks"
TUTORIALS = sorted(NOTEBOOKS.glob("*.ipynb"))
STUDENT = sorted((NOTEBOOKS / "exercises").glob("*.ipynb"))
SOURCES = sorted((REPO / "teacher" / "exercises").glob("*.ipynb"))  # the answers live outside what Binder serves

WAIT_FOR_STUDIOS = """
import lepton_nb as _lnb
for _name, _value in list(globals().items()):
    if isinstance(_value, _lnb.Studio) and _value.session.state != "idle":
        assert _value.wait(300), f"{_name} did not finish"
        assert _value.session.state == "completed", (_name, _value.session.state, _value.session.message)
"""


def execute(path: Path, workdir: Path, wait_for_studios: bool = True) -> nbformat.NotebookNode:
    """Run a copy of the notebook in ``workdir`` (files it writes stay out of the repository)."""
    nb = nbformat.read(path, as_version=4)
    if wait_for_studios:
        nb.cells.append(nbformat.v4.new_code_cell(WAIT_FOR_STUDIOS))
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(workdir)}}).execute()
    return nb


def outputs_text(nb: nbformat.NotebookNode) -> str:
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            parts.append(out.get("text", ""))
            data = out.get("data", {})
            parts.append(data.get("text/plain", "") + data.get("text/html", ""))
    return "\n".join(parts)


def errors(nb: nbformat.NotebookNode) -> list[str]:
    found = []
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "error":
                found.append(f"{out['ename']}: {out['evalue']}")
            elif out.get("name") == "stderr" and "Traceback" in out.get("text", ""):
                found.append(out["text"][-500:])
    return found


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_without_errors(path, tmp_path, monkeypatch):
    monkeypatch.setenv("LEPTON_NB_MAX_EPOCHS", "2")  # small settings: the same code, fewer epochs
    t0 = time.perf_counter()
    nb = execute(path, tmp_path)
    assert errors(nb) == []
    assert time.perf_counter() - t0 < 240


@pytest.mark.slow
@pytest.mark.parametrize("path", SOURCES, ids=[p.stem for p in SOURCES])
def test_answer_keys_pass_every_check(path, tmp_path):
    nb = execute(path, tmp_path, wait_for_studios=False)
    assert errors(nb) == []
    text = outputs_text(nb)
    assert "all" in text and "checks passed — well done!" in text and "✗" not in text


@pytest.mark.slow
@pytest.mark.parametrize("path", STUDENT, ids=[p.stem for p in STUDENT])
def test_untouched_student_notebooks_get_helpful_feedback(path, tmp_path):
    nb = execute(path, tmp_path, wait_for_studios=False)
    assert errors(nb) == []  # an unfinished notebook still runs
    text = outputs_text(nb)
    assert "not yet, keep going" in text and "✗" in text
    assert "well done" not in text


@pytest.mark.parametrize("path", TUTORIALS + STUDENT + SOURCES, ids=lambda p: str(p.relative_to(REPO)))
def test_committed_notebooks_carry_no_outputs(path):
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    assert nb.metadata["kernelspec"]["name"] == "python3"


def test_student_notebooks_are_the_release_of_the_sources(tmp_path):
    from lepton_nb.classroom import release

    release(REPO / "teacher" / "exercises", tmp_path)
    assert [p.name for p in STUDENT] == [p.name for p in SOURCES] and len(STUDENT) >= 4
    stale = [p.name for p in STUDENT if p.read_bytes() != (tmp_path / p.name).read_bytes()]
    assert stale == [], ("edit teacher/exercises/ and run `lepton-nb class release teacher/exercises --students "
                         "notebooks/exercises`")


def test_notebooks_are_not_left_with_files_from_a_run():
    leftovers = [p for p in NOTEBOOKS.rglob("*") if p.suffix in (".csv", ".json") or p.name == "runs"]
    assert leftovers == [], "execute notebooks in a copy (the tests do) or clean up"
    assert shutil.which("jupyter") or True
