"""nbgrader's cell conventions, read and applied without nbgrader.

A source notebook marks its cells the way nbgrader's "Create Assignment" toolbar does (cell metadata
``nbgrader: {solution, grade, locked, grade_id, points, schema_version: 3}``):

- a **solution** cell holds the answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; the student
  release keeps what is outside the markers (a starting line such as ``run = None  # train it``) and drops the
  region (``# YOUR CODE HERE`` stands in when nothing else is left; in markdown, ``YOUR ANSWER HERE`` takes
  the region's place);
- a **check** cell (``grade: true``, ``points``) is graded: here, a ``lnb.exercises.check(...)`` call; a region
  between ``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS`` is left out of the release and runs at grading;
- a **locked** cell (``locked: true``) is the teacher's: the grader puts the teacher's version back before it
  runs a submission, as it does for check cells.

Where we differ from nbgrader: nbgrader's stub also writes ``raise NotImplementedError()``; ours does not, so an
untouched student notebook runs to the end and its checks say what is left to do.
"""

from __future__ import annotations

import copy
from typing import Any

from ..errors import UsageError

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB, TEXT_STUB = "# YOUR CODE HERE", "YOUR ANSWER HERE"
MARKERS = (BEGIN_SOLUTION, END_SOLUTION, BEGIN_HIDDEN, END_HIDDEN)
SCHEMA_VERSION = 3


def meta(cell: Any) -> dict[str, Any]:
    """The cell's nbgrader metadata ({} for an ordinary cell)."""
    value = cell.get("metadata", {}).get("nbgrader", {})
    return value if isinstance(value, dict) else {}


CHECK, SOLUTION, LOCKED = "check", "solution", "locked"  # nbgrader's cell roles (its metadata says which)


def role(cell: Any) -> str:
    """`CHECK` (graded), `SOLUTION`, `LOCKED` or "" (an ordinary cell the student may edit)."""
    m = meta(cell)
    if m.get("grade") and not m.get("solution"):
        return CHECK
    if m.get("solution"):
        return SOLUTION
    return LOCKED if m.get("locked") else ""


def is_check(cell: Any) -> bool:
    """A graded cell: its tests give points."""
    return role(cell) == CHECK


def _source(cell: Any) -> str:
    src = cell.get("source", "")
    return "".join(src) if isinstance(src, list) else str(src)


def strip_region(text: str, begin: str, end: str, where: str, stub: str = "") -> tuple[str, bool]:
    """``text`` with the lines from ``begin`` to ``end`` (markers included) replaced by ``stub`` (or dropped);
    whether a region was found."""
    out, inside, found = [], False, False
    for line in text.splitlines():
        mark = line.strip()
        if mark == begin:
            if inside:
                raise UsageError(where, begin, f"opens a region twice; allowed: {begin} … {end}")
            inside, found = True, True
            if stub:
                out.append(line[: len(line) - len(line.lstrip())] + stub)
        elif mark == end:
            if not inside:
                raise UsageError(where, end, f"closes a region never opened; allowed: {begin} … {end}")
            inside = False
        elif not inside:
            out.append(line)
    if inside:
        raise UsageError(where, begin, f"is never closed; allowed: {begin} … {end}")
    return "\n".join(out), found


def without_marker_lines(text: str, markers: tuple[str, ...]) -> str:
    return "\n".join(line for line in text.splitlines() if line.strip() not in markers)


def _clean(cell: Any, source: str) -> Any:
    out = copy.deepcopy(cell)
    out["source"] = source
    if out.get("cell_type") == "code":
        out["outputs"], out["execution_count"] = [], None
    return out


def check_cell(cell: Any, where: str) -> None:
    """Refuse a cell whose markers or metadata contradict each other (nbgrader refuses the same)."""
    text, r, m = _source(cell), role(cell), meta(cell)
    if r in (CHECK, SOLUTION, LOCKED) and not str(m.get("grade_id", "")).strip():
        raise UsageError(where, m, "a solution, check or locked cell needs a grade_id (nbgrader metadata)")
    if r == CHECK:
        points = m.get("points")
        if isinstance(points, bool) or not isinstance(points, (int, float)) or points < 0:
            raise UsageError(where, points, "a check cell needs points ≥ 0 (nbgrader metadata)")
    if r != SOLUTION and (BEGIN_SOLUTION in text or END_SOLUTION in text):
        raise UsageError(where, BEGIN_SOLUTION, "found in a cell not marked as a solution (nbgrader: solution: true)")
    if r != CHECK and (BEGIN_HIDDEN in text or END_HIDDEN in text):
        raise UsageError(where, BEGIN_HIDDEN, "found in a cell not marked as graded (nbgrader: grade: true)")


def student_cell(cell: Any, where: str) -> Any:
    """The cell as students get it: solution regions out (stub in), hidden tests out, no outputs."""
    check_cell(cell, where)
    text, r = _source(cell), role(cell)
    if r == SOLUTION:
        markdown = cell.get("cell_type") == "markdown"
        stripped, found = strip_region(text, BEGIN_SOLUTION, END_SOLUTION, where, TEXT_STUB if markdown else "")
        if not found:  # nbgrader: a solution cell without markers is all solution
            stripped = ""
        if not stripped.strip():
            stripped = TEXT_STUB if markdown else CODE_STUB
        text = stripped.rstrip("\n")
    elif r == CHECK:
        text, _ = strip_region(text, BEGIN_HIDDEN, END_HIDDEN, where)
    return _clean(cell, text)


def key_cell(cell: Any, where: str) -> Any:
    """The cell as the teacher's answer key holds it: every answer and hidden test, the marker lines out."""
    check_cell(cell, where)
    return _clean(cell, without_marker_lines(_source(cell), MARKERS))


def carries_answers(cell: Any) -> bool:
    """Whether a cell still holds an answer region or hidden tests (what a student release must never hold)."""
    text = _source(cell)
    return any(marker in text for marker in (BEGIN_SOLUTION, BEGIN_HIDDEN))


__all__ = ["BEGIN_HIDDEN", "BEGIN_SOLUTION", "CODE_STUB", "END_HIDDEN", "END_SOLUTION", "TEXT_STUB",
           "carries_answers", "check_cell", "key_cell", "meta", "role", "strip_region", "student_cell"]
