"""The class gallery: every student's run on one page, for a projector.

``gallery("submissions", "gallery.html", exercise="augmentation")`` finds every run under the folder — run
folders (``recipe.json`` + ``history.json``) and notebooks whose check output carries the checked run (the
graded copies in ``graded/feedback`` or notebooks students saved after running) — and writes one
self-contained page: a leaderboard by the exercise's metric, the validation curves overlaid (click a name to
hide or show a student), what each student changed from the starting recipe, and runs that diverged,
overfit or did not finish flagged. A student is the first folder under the given one.
"""

from __future__ import annotations

import html
import math
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import LeptonError, UsageError, user_path
from ..feedback import MIME
from ..files import atomic_write
from ..plotting.interactive import bars_figure, overlay_figure
from ..plotting.page import CSS, chart, document, values_table
from ..recipe.diff import changes, show
from ..recipe.labels import metric_label
from .release import read_notebook

#: a run overfits when training ends this far above validation (accuracy points) ...
OVERFIT_GAP = 0.10
#: ... or its validation loss ends this many times above its lowest while the training loss still fell
OVERFIT_RISE = 1.3

PROJECTOR_CSS = CSS + """
body{font-size:1.15rem;max-width:1280px}td,th{padding:.35rem .7rem}
.flag{display:inline-block;border-radius:.3rem;padding:0 .4rem;margin:0 .2rem .1rem 0;font-size:.9rem;
background:#f8d7da;color:#58151c}.flag.overfit{background:#fff3cd;color:#5c4400}
td.changes{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85rem;text-align:left;max-width:560px}
"""


@dataclass
class Entry:
    """One student's run as the gallery shows it."""

    student: str
    source: str
    name: str
    status: str
    recipe: dict[str, Any]
    metrics: dict[str, float]
    epochs: list[dict[str, Any]]
    classes: int = 0
    flags: list[str] = field(default_factory=list)
    changed: list[tuple[str, Any, Any]] = field(default_factory=list)
    label: str = ""

    def value(self, metric: str) -> float:
        v = self.metrics.get(metric)
        return float(v) if isinstance(v, (int, float)) and math.isfinite(v) else math.nan

    def series(self, key: str) -> tuple[list[int], list[float | None]]:
        rows = [(int(e.get("epoch", i)) + 1, e.get(key)) for i, e in enumerate(self.epochs) if key in e]
        return [x for x, _ in rows], [y if isinstance(y, (int, float)) else None for _, y in rows]


def _student(path: Path, root: Path) -> str:
    rel = path.relative_to(root)
    return rel.parts[0] if len(rel.parts) > 1 else path.stem if path.is_file() else path.name


def from_run_folder(path: Path, root: Path) -> Entry:
    from ..artifacts.run_folder import RunFolder

    folder = RunFolder(path)
    recipe, history, metrics = folder.read_recipe(), folder.read_history(), folder.read_metrics()
    test = metrics.get("test") or {}
    return Entry(_student(path, root), str(path.relative_to(root)), path.name, str(metrics.get("status", "")),
                 recipe.to_dict(), {"loss": test.get("loss"), **(test.get("metrics") or {})},
                 [dict(e) for e in history.epochs], len(test.get("classes") or []))


def from_notebook(path: Path, root: Path) -> list[Entry]:
    """Every checked run a notebook's outputs carry (the last result of each exercise)."""
    found: dict[str, Entry] = {}
    for cell in read_notebook(path).cells:
        for out in cell.get("outputs", []):
            result = out.get("data", {}).get(MIME)
            run = result.get("run") if isinstance(result, dict) else None
            if isinstance(run, dict) and isinstance(run.get("recipe"), dict):
                found[str(result.get("exercise"))] = Entry(
                    _student(path, root), str(path.relative_to(root)), str(run.get("name", path.stem)),
                    str(run.get("status", "")), run["recipe"], dict(run.get("metrics") or {}),
                    list(run.get("epochs") or []), int(run.get("classes") or 0))
    return list(found.values())


def is_run_folder(path: Path) -> bool:
    return path.is_dir() and (path / "recipe.json").is_file() and (path / "history.json").is_file()


def collect(folder: Path) -> tuple[list[Entry], list[str]]:
    """Every run under ``folder`` and the paths that could not be read (with why)."""
    if is_run_folder(folder):
        return [from_run_folder(folder, folder.parent)], []
    entries, skipped = [], []
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder)
        if any(p.startswith(".") or p == "checkpoints" for p in rel.parts):
            continue
        try:
            if is_run_folder(path):
                entries.append(from_run_folder(path, folder))
            elif path.suffix == ".ipynb" and path.is_file():
                entries += from_notebook(path, folder)
        except (LeptonError, OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            skipped.append(f"{rel}: {exc}")
    return entries, skipped


def flags_of(e: Entry) -> list[str]:
    """Why a run stands out: diverged, overfit, or not finished."""
    flags = []
    losses = [x.get(k) for x in e.epochs for k in ("train_loss", "val_loss") if k in x]
    at_chance = e.classes and e.value("accuracy") <= 1.5 / e.classes
    if e.status == "diverged" or any(v is None or not math.isfinite(float(v)) for v in losses) or at_chance:
        flags.append("diverged" if e.status == "diverged" or losses and None in losses else "learned nothing")
    elif e.status not in ("completed", "early_stopped", ""):
        flags.append(e.status)
    if e.epochs:
        last = e.epochs[-1]
        gap = (last.get("train_accuracy") or 0) - (last.get("val_accuracy") or 0)
        vals = [x.get("val_loss") for x in e.epochs if isinstance(x.get("val_loss"), (int, float))]
        trains = [x.get("train_loss") for x in e.epochs if isinstance(x.get("train_loss"), (int, float))]
        rising = (len(vals) >= 3 and min(vals) > 0 and vals[-1] >= OVERFIT_RISE * min(vals) and len(trains) >= 3
                  and trains[-1] < trains[vals.index(min(vals))])
        if "val_accuracy" in last and gap >= OVERFIT_GAP or rising:
            flags.append("overfit")
    return flags


def consensus(recipes: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The most common value of every setting: the starting point when none is given."""
    from ..recipe.diff import flatten

    flat = [flatten(r) for r in recipes]
    out: dict[str, Any] = {}
    for key in dict.fromkeys(k for f in flat for k in f):
        counts = Counter(repr(f.get(key)) for f in flat)
        top = counts.most_common(1)[0][0]
        value = next(f.get(key) for f in flat if repr(f.get(key)) == top)
        node = out
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return out


def _changes_html(changed: list[tuple[str, Any, Any]], limit: int = 8) -> str:
    if not changed:
        return "<span class=muted>nothing (the starting recipe)</span>"
    items = [f"{html.escape(k)}: {html.escape(show(a, 40))} → <b>{html.escape(show(b, 90))}</b>"
             for k, a, b in changed]
    more = f"<br><span class=muted>+{len(items) - limit} more</span>" if len(items) > limit else ""
    return "<br>".join(items[:limit]) + more


def build_page(entries: list[Entry], metric: str, title: str, base_note: str, skipped: list[str]) -> str:
    higher = "loss" not in metric
    ranked = sorted(entries, key=lambda e: (math.isnan(e.value(metric)),
                                            -e.value(metric) if higher else e.value(metric), e.label))
    label = metric_label(metric)
    flagged = [e for e in ranked if e.flags]
    parts = [f"<h1>{html.escape(title)}</h1>",
             f"<p class=muted>{len(ranked)} run(s) of {len({e.student for e in ranked})} student(s), ranked by test "
             f"{html.escape(label)}; {len(flagged)} flagged. {html.escape(base_note)}</p>"]
    bar = bars_figure([e.label for e in ranked], [e.value(metric) for e in ranked], "leaderboard", label,
                      colors=["#c44e52" if e.flags else "#4c72b0" for e in ranked],
                      hover=["; ".join(f"{k}={show(b)}" for k, _, b in e.changed[:4]) or "starting recipe"
                             for e in ranked], percent=higher and metric != "loss")
    best = ranked[0] if ranked and not math.isnan(ranked[0].value(metric)) else None
    alt = (f"Leaderboard of {len(ranked)} runs by test {label}" + (f": best {best.label} with "
           f"{best.value(metric):.4g}" if best else "") + (f"; flagged: {', '.join(e.label for e in flagged)}"
                                                           if flagged else "") + ".")
    parts.append(chart(bar, alt))
    rows = "".join(
        f"<tr><td>{i + 1}</td><td class=l>{html.escape(e.label)}</td><td>{_fmt(e.value(metric))}</td>"
        f"<td class=l>{html.escape(e.status)}</td><td class=l>"
        + "".join(f"<span class='flag {html.escape(f)}'>{html.escape(f)}</span>" for f in e.flags)
        + f"</td><td class=changes>{_changes_html(e.changed)}</td></tr>" for i, e in enumerate(ranked))
    parts.append(f"<h2>Leaderboard</h2><table><tr><th>#</th><th class=l>student</th><th>{html.escape(label)}</th>"
                 f"<th class=l>status</th><th class=l>flags</th><th class=l>changed from the start</th></tr>{rows}"
                 "</table>")
    parts.append("<h2>Curves</h2><p class=muted>Click a name in a legend to hide or show that run, double-click "
                 "to show it alone; flagged runs are dashed.</p><div class='lnb-row'>")
    for key, title_text in ((f"val_{metric}", f"validation {label} per epoch"),
                            ("val_loss", "validation loss per epoch"), ("train_loss", "training loss per epoch")):
        series = [(e.label, *e.series(key)) for e in ranked if e.series(key)[0]]
        if not series:
            continue
        fig = overlay_figure(series, title_text, "epoch", key.replace("_", " "),
                             percent=key.endswith("accuracy"), highlight=[bool(e.flags) for e in ranked
                                                                          if e.series(key)[0]])
        ends = [(lbl, y[-1]) for lbl, _, y in series if y and y[-1] is not None]
        table = values_table(["run", "epochs", "last value"], [[lbl, len(x), y[-1]] for lbl, x, y in series])
        parts.append(chart(fig, f"{title_text.capitalize()} for {len(series)} runs; last values: "
                                + ", ".join(f"{lbl} {v:.3g}" for lbl, v in ends) + ".", table))
    parts.append("</div>")
    if skipped:
        parts.append("<h2>Not shown</h2><ul>" + "".join(f"<li>{html.escape(s)}</li>" for s in skipped) + "</ul>")
    return document(title, "".join(parts), css=PROJECTOR_CSS)


def _fmt(v: float) -> str:
    return "" if math.isnan(v) else f"{v:.4f}"


def gallery(folder: str | Path, out: str | Path, *, exercise: str | None = None, metric: str | None = None,
            starter: Any = None, anonymous: bool = False, title: str = "") -> Path:
    """Write the class gallery of every run under ``folder`` to ``out`` (HTML) and return its path.

    ``exercise`` (a name `lnb.exercises` knows) gives the starting recipe and the metric to rank by; else
    ``starter`` (a `Recipe`, or a recipe file) is the starting point, or the class's most common settings;
    ``metric`` defaults to accuracy. ``anonymous`` shows "student 1", "student 2", … (in name order) instead
    of folder names."""
    from ..recipe import Recipe
    from ..tools.exercises import EXERCISES

    root = user_path(folder, "folder")
    if not root.is_dir():
        raise UsageError("folder", str(root), "allowed: a folder of submitted run folders or notebooks")
    if exercise is not None and exercise not in EXERCISES:
        raise UsageError("exercise", exercise, f"allowed: {', '.join(EXERCISES)}")
    entries, skipped = collect(root)
    if not entries:
        raise UsageError("folder", str(root), "holds no run folder (recipe.json + history.json) and no notebook "
                                              "with a checked run; allowed: the students' runs or graded notebooks")
    if exercise is not None:
        base, note = EXERCISES[exercise].starter().to_dict(), f"Changes are from the '{exercise}' starter."
        metric = metric or EXERCISES[exercise].metric
    elif starter is not None:
        recipe = starter if isinstance(starter, Recipe) else Recipe.from_file(starter)
        base, note = recipe.to_dict(), "Changes are from the given starting recipe."
    else:
        base, note = consensus([e.recipe for e in entries]), "Changes are from the class's most common settings."
    metric = metric or "accuracy"
    names = sorted({e.student for e in entries})
    alias = {s: f"student {i + 1}" for i, s in enumerate(names)} if anonymous else {s: s for s in names}
    per_student = Counter(e.student for e in entries)
    for e in entries:
        e.flags, e.changed = flags_of(e), changes(base, e.recipe)
        e.label = alias[e.student] + (f" · {e.name}" if per_student[e.student] > 1 and not anonymous else "")
        if anonymous and per_student[e.student] > 1:
            e.label += f" · run {sum(1 for o in entries[:entries.index(e) + 1] if o.student == e.student)}"
    if anonymous:
        skipped = [f"{len(skipped)} path(s) could not be read"] if skipped else []
    page = build_page(entries, metric, title or f"Class gallery{f' · {exercise}' if exercise else ''}", note,
                      skipped)
    return atomic_write(user_path(out, "out"), page)


__all__ = ["Entry", "collect", "consensus", "flags_of", "gallery"]
