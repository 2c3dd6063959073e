"""The panels during a run: its settings locked (with the reason on hover), and the mid-run fields of a
paused run editable, collected as the changes that apply on Resume (see `lepton_nb.training.changes`)."""

from __future__ import annotations

import html
from typing import Any

import ipywidgets as W

from ..recipe import TrainSection
from ..training.changes import MID_RUN, locked_reason
from ..workflows import Session
from ..workflows.session.core import ACTIVE
from .forms import RecipeForm
from .render import MUTED


def _value(node: Any, parts: list[str]) -> Any:
    for part in parts:
        node = node.get(part) if isinstance(node, dict) else getattr(node, part, None)
    return node


def mid_run_values(form: RecipeForm) -> dict[str, Any]:
    """The panels' values of the mid-run fields (taken at Start: what the run was started with)."""
    values = form.values()
    return {path: _value(values, path.split(".")) for path in MID_RUN}


def pending_changes(form: RecipeForm, session: Session, started: dict[str, Any]) -> dict[str, Any]:
    """Mid-run fields edited since the run started (``started``, updated on each Resume), as dotted keys;
    only while the run is paused."""
    trainer = session.trainer
    if session.state != "paused" or trainer is None:
        return {}
    return {path: value for path, value in mid_run_values(form).items()
            if value is not None and value != started.get(path) and locked_reason(path, trainer.cfg) is None}


def apply_locks(form: RecipeForm, session: Session, state: str, note: W.HTML, fallback: TrainSection) -> None:
    """Lock every field while a run is active, except the mid-run fields of a paused run; say why."""
    active = state in ACTIVE
    trainer = session.trainer
    cfg = trainer.cfg if trainer is not None else fallback
    for path, control in {**form.controls(), "name": form.name}.items():
        reason = locked_reason(path, cfg) if active else None
        control.widget.disabled = active and not (reason is None and state == "paused")
        control.widget.tooltip = (f"locked while the run is active: {reason}" if reason else
                                  "pause the run to change it; it applies on Resume" if active else None)
    open_fields = [p.split(".")[-1].replace("_", " ") for p in MID_RUN if locked_reason(p, cfg) is None]
    note.value = "" if not active else (
        f"<div class='lnb-lock-note' style='{MUTED};font-size:12px'>🔒 The run keeps the settings it started "
        f"with. {'Now' if state == 'paused' else 'Pause to'} change {html.escape(', '.join(open_fields))}: they "
        "apply on Resume and are marked on the curves. Other fields are locked (hover them for why).</div>")


def _show(v: Any) -> str:
    return f"{v:g}" if isinstance(v, float) else str(v)


def change_marks(changes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Marks for the live curves: one per step, naming each change (``lr 0.005→0.001``)."""
    by_step: dict[int, list[str]] = {}
    for c in changes:
        by_step.setdefault(int(c["step"]), []).append(
            f"{c['field'].split('.')[-1].replace('_', ' ')} {_show(c['old'])}→{_show(c['new'])}")
    return [{"step": step, "text": ", ".join(texts)} for step, texts in sorted(by_step.items())]
