"""A student release and a teacher folder from one source notebook per exercise.

``release("teacher/source", students="notebooks/exercises", keys="teacher/keys")`` reads every source notebook
(nbgrader's cell metadata, `lepton_nb.classroom.cells`) and writes, for each:

- the **student** notebook: answers replaced by their starting lines, hidden tests out, checks kept, outputs
  cleared — what Binder and a course page serve;
- the **key**: every answer and hidden test in place (marker lines out), outputs cleared — what the grader puts
  back into a submission's check and locked cells, and what a teacher reads.

Other files beside the notebooks (data, a README) are copied to both. Every file is written atomically, and
a release that would still hold an answer region is refused before anything is written.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from ..errors import UsageError, user_path
from ..files import atomic_write
from .cells import CHECK, SOLUTION, carries_answers, key_cell, meta, role, student_cell


@dataclass
class NotebookPlan:
    """What one source notebook holds: its graded checks (grade_id → points) and answer cells."""

    name: str
    checks: dict[str, float] = field(default_factory=dict)
    solutions: list[str] = field(default_factory=list)
    locked: list[str] = field(default_factory=list)

    @property
    def points(self) -> float:
        return float(sum(self.checks.values()))


@dataclass
class Release:
    """What `release` wrote."""

    students: Path
    keys: Path | None
    notebooks: list[NotebookPlan]

    def __str__(self) -> str:
        lines = [f"student release: {self.students} ({len(self.notebooks)} notebooks, no answers)"]
        if self.keys is not None:
            lines.append(f"teacher folder (answer keys): {self.keys}")
        lines += [f"  {p.name}: {len(p.solutions)} answer cell(s), checks {', '.join(p.checks) or 'none'} "
                  f"({p.points:g} points)" for p in self.notebooks]
        return "\n".join(lines)


def source_notebooks(source: Path) -> list[Path]:
    """The source folder's notebooks (sorted; checkpoints skipped)."""
    if not source.is_dir():
        raise UsageError("source", str(source), "allowed: a folder of source notebooks (*.ipynb)")
    found = sorted(p for p in source.glob("*.ipynb") if p.is_file())
    if not found:
        raise UsageError("source", str(source), "holds no notebook; allowed: a folder of source notebooks (*.ipynb)")
    return found


def read_notebook(path: Path) -> Any:
    try:
        return nbformat.read(path, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for a damaged file
        raise UsageError("notebook", str(path), f"cannot be read as a Jupyter notebook ({type(exc).__name__}: "
                                                f"{exc}); allowed: an .ipynb file") from exc


def notebook_text(nb: Any) -> str:
    """A notebook as nbformat writes it (with the final newline)."""
    text = nbformat.writes(nb)
    return text if text.endswith("\n") else text + "\n"


def split_notebook(nb: Any, path: Path) -> tuple[Any, Any, NotebookPlan]:
    """The student notebook, the key and the plan of one source notebook."""
    plan = NotebookPlan(path.name)
    students, keys = copy_shell(nb), copy_shell(nb)
    ids: set[str] = set()
    for i, cell in enumerate(nb.cells):
        where = f"{path.name} cell {i + 1}"
        r, m = role(cell), meta(cell)
        students.cells.append(student_cell(cell, where))
        keys.cells.append(key_cell(cell, where))
        if not r:
            continue
        grade_id = str(m["grade_id"])
        if grade_id in ids:
            raise UsageError(where, grade_id, "grade_id used twice in one notebook; allowed: a unique grade_id")
        ids.add(grade_id)
        if r == CHECK:
            plan.checks[grade_id] = float(m["points"])
        elif r == SOLUTION:
            plan.solutions.append(grade_id)
        else:
            plan.locked.append(grade_id)
    if any(carries_answers(c) for c in students.cells):  # cannot happen after student_cell; refuse if it ever does
        raise UsageError("source", path.name, "the student version would still hold an answer region")
    return students, keys, plan


def copy_shell(nb: Any) -> Any:
    """An empty notebook with ``nb``'s metadata and format."""
    out = nbformat.v4.new_notebook(metadata=nb.metadata)
    out.nbformat, out.nbformat_minor = nb.nbformat, nb.nbformat_minor
    return out


def other_files(source: Path) -> list[tuple[Path, Path]]:
    """Files beside the source notebooks (data, a README), with their paths relative to the source folder;
    hidden files and folders are skipped. A notebook in a subfolder is refused: it would be copied unreleased."""
    found = []
    for path in sorted(source.rglob("*")):
        rel = path.relative_to(source)
        if not path.is_file() or any(part.startswith(".") for part in rel.parts) or len(rel.parts) == 1 and \
                path.suffix == ".ipynb":
            continue
        if path.suffix == ".ipynb":
            raise UsageError("source", str(rel), "a notebook in a subfolder is not released (it would be copied "
                                                 "with its answers); allowed: source notebooks at the top level")
        found.append((path, rel))
    return found


def _inside(path: Path, folder: Path) -> bool:
    return path.resolve() == folder.resolve() or folder.resolve() in path.resolve().parents


def release(source: str | Path, students: str | Path, keys: str | Path | None = None) -> Release:
    """Write the student release of every source notebook to ``students`` and (with ``keys``) the teacher folder;
    returns what was written. Nothing is written when any source notebook is malformed."""
    src = user_path(source, "source")
    out = user_path(students, "students")
    key_dir = user_path(keys, "keys") if keys is not None else None
    if _inside(out, src) or _inside(src, out):
        raise UsageError("students", str(out), f"overlaps the source folder {src}; allowed: a folder of its own")
    if key_dir is not None and (_inside(key_dir, out) or _inside(out, key_dir)):
        raise UsageError("keys", str(key_dir), f"overlaps the student folder {out}: students would get the answers; "
                                               "allowed: a folder outside it")
    paths = source_notebooks(src)
    extras = other_files(src)
    parts = [(p, *split_notebook(read_notebook(p), p)) for p in paths]  # every notebook checked before writing
    for path, student_nb, key_nb, _ in parts:
        atomic_write(out / path.name, notebook_text(student_nb))
        if key_dir is not None:
            atomic_write(key_dir / path.name, notebook_text(key_nb))
    for extra, rel in extras:
        for folder in (out, key_dir):
            if folder is not None:
                atomic_write(folder / rel, extra.read_bytes())
    return Release(out, key_dir, [plan for *_, plan in parts])


__all__ = ["NotebookPlan", "Release", "notebook_text", "read_notebook", "release", "source_notebooks",
           "split_notebook"]
