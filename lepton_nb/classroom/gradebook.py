"""The gradebook: one CSV row per student and notebook, one per named check, written atomically.

``gradebook.csv``: student, notebook, status (graded, missing, unreadable, error, timeout), points,
max_points, checks_passed, checks_total, what is missing (each failed check's name and hint), seconds, error.
``checks.csv``: student, notebook, grade_id, exercise, check, passed, feedback — the long form, for a
spreadsheet's pivot table. Both open in any spreadsheet (UTF-8 with a byte-order mark, so Excel reads ✓ and
ε right).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path

from ..files import atomic_write
from .grader import Submission

SUMMARY_COLUMNS = ("student", "notebook", "status", "points", "max_points", "checks_passed", "checks_total",
                   "missing", "seconds", "error")
CHECK_COLUMNS = ("student", "notebook", "grade_id", "exercise", "check", "passed", "feedback")


def summary_rows(graded: Sequence[Submission]) -> list[dict[str, object]]:
    rows = []
    for s in graded:
        checks = [c for r in s.results for c in r.checks]
        missing = [f"{c.get('name')}: {c.get('text')}" for c in checks if not c.get("passed")]
        errors = [f"{r.grade_id}: {r.error}" for r in s.results if r.error and s.status == "graded"]
        rows.append({"student": s.student, "notebook": s.notebook, "status": s.status, "points": s.points,
                     "max_points": s.max_points, "checks_passed": sum(bool(c.get("passed")) for c in checks),
                     "checks_total": len(checks), "missing": " | ".join(missing), "seconds": s.seconds,
                     "error": " | ".join(x for x in (s.error, *errors) if x)})
    return rows


def check_rows(graded: Sequence[Submission]) -> list[dict[str, object]]:
    return [{"student": s.student, "notebook": s.notebook, "grade_id": r.grade_id, "exercise": r.exercise,
             "check": c.get("name", ""), "passed": int(bool(c.get("passed"))), "feedback": c.get("text", "")}
            for s in graded for r in s.results for c in r.checks]


def csv_text(rows: Sequence[dict[str, object]], columns: Sequence[str]) -> str:
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(columns), lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + buf.getvalue()


def write_gradebook(graded: Sequence[Submission], out: str | Path) -> tuple[Path, Path]:
    """``out/gradebook.csv`` and ``out/checks.csv``; returns both paths."""
    out = Path(out)
    return (atomic_write(out / "gradebook.csv", csv_text(summary_rows(graded), SUMMARY_COLUMNS)),
            atomic_write(out / "checks.csv", csv_text(check_rows(graded), CHECK_COLUMNS)))


__all__ = ["CHECK_COLUMNS", "SUMMARY_COLUMNS", "check_rows", "summary_rows", "write_gradebook"]
