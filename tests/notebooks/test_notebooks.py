"""Every tutorial and exercise notebook executes headless (nbclient) without an error output, as a student runs it
(no epoch cap), and every claim a tutorial's prose makes holds on that run (`CLAIMS`, run in the notebook's own
kernel after its last cell); the student exercises are the release of the teacher's source notebooks
(teacher/exercises), whose answers pass every check."""

from __future__ import annotations

import shutil
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

from tests.notebooks.claims import CLAIMS

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


def execute(path: Path, workdir: Path, wait_for_studios: bool = True, claims: str = "") -> nbformat.NotebookNode:
    """Run a copy of the notebook in ``workdir`` (files it writes stay out of the repository). What the kernel
    and the processes it starts write to their console (a server's log) is kept in ``workdir/console.log``."""
    nb = nbformat.read(path, as_version=4)
    if wait_for_studios:
        nb.cells.append(nbformat.v4.new_code_cell(WAIT_FOR_STUDIOS))
    if claims:
        nb.cells.append(nbformat.v4.new_code_cell(claims))
    with open(workdir / "console.log", "wb") as console:
        NotebookClient(nb, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(workdir)}}).execute(stdout=console, stderr=console)
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


def cell_outputs(nb: nbformat.NotebookNode, starts: str) -> str:
    """The text and HTML outputs of the first code cell whose source starts with ``starts``."""
    cell = next(c for c in nb.cells if c.cell_type == "code" and c.source.startswith(starts))
    return outputs_text(nbformat.v4.new_notebook(cells=[cell]))


@pytest.mark.slow
@pytest.mark.parametrize("path", TUTORIALS, ids=[p.stem for p in TUTORIALS])
def test_tutorial_runs_as_a_student_runs_it_and_its_prose_holds(path, tmp_path, monkeypatch):
    monkeypatch.delenv("LEPTON_NB_MAX_EPOCHS", raising=False)  # every epoch the recipe asks for
    nb = execute(path, tmp_path, claims=CLAIMS[path.stem])
    assert errors(nb) == []
    text = outputs_text(nb)
    assert "LEPTON_NB_MAX_EPOCHS" not in text  # no cap, so no note of one
    console = (tmp_path / "console.log").read_text(errors="replace")
    assert "Traceback" not in console, console[-3000:]  # the server's console too: kernel, worker, shutdown
    if path.stem == "01_quickstart":  # "a static summary appears under the studio, in the output of that cell"
        summary = cell_outputs(nb, "studio = lnb.Studio()")
        assert "lnb-snapshot" in summary and "<img" in summary and "completed" in summary


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


def test_every_tutorial_ends_by_saying_to_shut_its_kernel_down():
    """On a 2 GB Binder a kernel left running by the previous tutorial leaves too little for the next one."""
    for path in TUTORIALS:
        last = nbformat.read(path, as_version=4).cells[-1]
        assert last.cell_type == "markdown" and "Kernel → Shut Down Kernel" in last.source, path.name


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
