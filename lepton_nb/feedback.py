"""What an exercise's self-check says: named checks, passed or not, each with a specific hint.

Every exercise declares its checks up front, so a student sees the same list from the first run on (an
unanswered check reads "not checked yet" and says what to do first) and a gradebook gets the same columns
for every student. `Feedback` shows itself as text or HTML in a notebook and also as a machine-readable
result (``application/vnd.lepton-nb.check+json``: the checks, and the checked run's recipe, curves and
metrics) that the autograder collects from the executed notebook and the class gallery draws. Front ends
that do not know the type show the HTML, as for any unknown output type.

Standard library only, at the bottom of the package: a teacher's own check cell
(``from lepton_nb.feedback import Feedback``) loads nothing else, so grading a notebook that does not train
does not pay for torch.
"""

from __future__ import annotations

import html
import math
from dataclasses import dataclass, field
from typing import Any

#: the output type of a check's result in a notebook (what `lepton_nb.classroom` reads back)
MIME = "application/vnd.lepton-nb.check+json"
#: the version of that result's layout
RESULT_VERSION = 1


@dataclass(frozen=True)
class Point:
    """One check: its stable name, whether it passed, and what it says (what passed, or the hint)."""

    name: str
    passed: bool
    text: str


@dataclass
class Feedback:
    """The result of `lnb.exercises.check`: one `Point` per declared check, in the declared order."""

    exercise: str
    checks: dict[str, str] = field(default_factory=dict)  # name → what it asks, in order
    points: list[Point] = field(default_factory=list)
    note: str = ""  # a problem with the call itself (unknown answer names, an answer that could not be read)
    run: dict[str, Any] | None = None  # the checked run's summary (`run_summary`), for the gradebook and gallery
    metrics: dict[str, float] = field(default_factory=dict)  # what a check measured itself (robust accuracy)

    def ok(self, name: str, condition: Any, good: str, hint: str) -> bool:
        """Record check ``name``: ``good`` when ``condition`` holds, else ``hint``. Returns the outcome."""
        passed = bool(condition)
        self.points = [p for p in self.points if p.name != name]
        self.points.append(Point(name, passed, good if passed else hint))
        return passed

    def finish(self, blocked_by: str = "") -> Feedback:
        """Fill every declared check not recorded yet with "not checked yet" and put the points in the declared
        order, so the list has the same length and order on every run."""
        done = {p.name: p for p in self.points}
        reason = blocked_by or "first fix the ✗ above"
        self.points = [done.get(name) or Point(name, False, f"{asks}: not checked yet — {reason}")
                       for name, asks in self.checks.items()] + [p for p in self.points if p.name not in self.checks]
        return self

    @property
    def passed(self) -> bool:
        return bool(self.points) and all(p.passed for p in self.points)

    @property
    def score(self) -> tuple[int, int]:
        """(checks passed, checks in all)."""
        return sum(p.passed for p in self.points), len(self.points)

    def headline(self) -> str:
        done, total = self.score
        if self.passed:
            return f"Exercise '{self.exercise}': all {done} checks passed — well done!"
        return f"Exercise '{self.exercise}': {done} of {total} checks passed — not yet, keep going."

    def __str__(self) -> str:
        lines = [self.headline()] + ([f"  ⚠ {self.note}"] if self.note else [])
        return "\n".join(lines + [f"  {'✓' if p.passed else '✗'} {p.text}" for p in self.points])

    def _repr_html_(self) -> str:
        color = "#1b5e20" if self.passed else "#7a5c00"
        note = f"<p style='color:#7a5c00;margin:.2em 0'>⚠ {html.escape(self.note)}</p>" if self.note else ""
        items = "".join(f"<li style='color:{'#1b5e20' if p.passed else '#b71c1c'}'>"
                        f"<span aria-hidden='true'>{'✓' if p.passed else '✗'}</span> "
                        f"<span class='lnb-sr'>{'passed:' if p.passed else 'not yet:'}</span> "
                        f"{html.escape(p.text)}</li>" for p in self.points)
        return (f"<div class='lnb-feedback'><b style='color:{color}'>{html.escape(self.headline())}</b>{note}"
                "<style>.lnb-feedback .lnb-sr{position:absolute;left:-9999px}</style>"
                f"<ul style='list-style:none;padding-left:8px'>{items}</ul></div>")

    def to_dict(self) -> dict[str, Any]:
        """The machine-readable result: what the autograder writes into the gradebook."""
        done, total = self.score
        return {"version": RESULT_VERSION, "exercise": self.exercise, "passed": self.passed, "score": done,
                "total": total, "note": self.note,
                "checks": [{"name": p.name, "passed": p.passed, "text": p.text} for p in self.points],
                "metrics": self.metrics, "run": self.run}

    def _repr_mimebundle_(self, include: Any = None, exclude: Any = None) -> dict[str, Any]:
        return {"text/plain": str(self), "text/html": self._repr_html_(), MIME: self.to_dict()}


def _finite(value: Any) -> Any:
    """JSON-safe: NaN/inf become None; numpy scalars become Python numbers."""
    if isinstance(value, dict):
        return {str(k): _finite(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_finite(v) for v in value]
    if hasattr(value, "item") and callable(value.item):
        try:
            value = value.item()
        except (TypeError, ValueError):
            return str(value)
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    return value if value is None or isinstance(value, (bool, int, str)) else str(value)


def run_summary(run: Any) -> dict[str, Any] | None:
    """What the gallery needs of a checked run: name, status, recipe, test metrics and per-epoch values
    (a few KB; no weights, no data). None when ``run`` is not a run or cannot be read."""
    try:
        return _finite({"name": run.name, "status": run.status, "message": run.message,
                        "recipe": run.recipe.to_dict(), "metrics": dict(run.metrics),
                        "epochs": [dict(e) for e in run.history.epochs],
                        "seconds": float(getattr(run, "seconds", 0.0) or 0.0),
                        "classes": len(getattr(getattr(run, "evaluation", None), "classes", None) or [])})
    except Exception:  # a half-made object a student passed: the checks say what is wrong with it
        return None


__all__ = ["MIME", "RESULT_VERSION", "Feedback", "Point", "run_summary"]
