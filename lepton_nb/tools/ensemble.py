"""Ensembles: average the predicted probabilities of several runs and evaluate the result like any model.

The runs must have been trained on the same data (the same ``data`` section of the recipe, so the
same split and classes); each keeps its own normalization, augmentation and architecture. The
ensemble is itself a `Predictor`: ``result.predictor.predict(inputs)`` takes raw inputs, and
``lnb.export(result, "onnx", "ensemble.onnx")`` writes all members as one graph.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import nn

from ..artifacts import Predictor, as_predictor
from ..data.bundle import DataBundle
from ..errors import UsageError
from ..evaluation import EvalResult, evaluate_logits
from ..training.control import Control


class EnsembleModel(nn.Module):
    """Weighted mean of the members' softmax probabilities; returns its log (usable as logits)."""

    def __init__(self, members: Sequence[nn.Module], weights: Sequence[float]):
        super().__init__()
        self.members = nn.ModuleList(members)
        w = torch.tensor([float(v) for v in weights], dtype=torch.float32)
        self.register_buffer("weights", w / w.sum())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        probs = torch.stack([torch.softmax(m(x).float(), dim=1) for m in self.members])
        mixed = (probs * self.weights.view(-1, 1, 1)).sum(0)
        return torch.log(mixed.clamp_min(1e-12))


@dataclass
class EnsembleResult:
    """The ensemble's evaluation next to each member's, and the ensemble as a `Predictor`."""

    evaluation: EvalResult
    members: list[dict[str, Any]]  # name, weight, metrics (with loss) of each run on the same split
    predictor: Predictor
    status: str = "completed"

    @property
    def metrics(self) -> dict[str, float]:
        return {"loss": self.evaluation.loss, **self.evaluation.metrics}

    def predict(self, inputs: Any) -> list[str]:
        return self.predictor.predict(inputs)

    def rows(self) -> list[dict[str, Any]]:
        rows = [{"model": m["name"], "weight": round(m["weight"], 4), **{k: round(v, 4) for k, v in
                                                                        m["metrics"].items()}} for m in self.members]
        rows.append({"model": "ensemble", "weight": 1.0, **{k: round(v, 4) for k, v in self.metrics.items()}})
        return rows

    def table(self) -> str:
        rows = self.rows()
        keys = [k for k in rows[0] if k not in ("model", "weight")]
        width = max(len(r["model"]) for r in rows)
        lines = [f"ensemble of {len(self.members)} runs on the {self.evaluation.split} split"
                 + ("" if self.status == "completed" else f" — {self.status}"),
                 f"{'model':<{width}} {'weight':>7} " + " ".join(f"{k:>{max(9, len(k))}}" for k in keys)]
        for r in rows:
            lines.append(f"{r['model']:<{width}} {r['weight']:>7.3f} " +
                         " ".join(f"{r[k]:>{max(9, len(k))}.4f}" for k in keys))
        return "\n".join(lines)

    def to_dict(self) -> dict[str, Any]:
        return {"status": self.status, "split": self.evaluation.split, "ensemble": self.evaluation.to_dict(),
                "members": self.members, "rows": self.rows()}


def ensemble(runs: Sequence[Any], *, weights: Sequence[float] | None = None, split: str = "test",
             checkpoint: str = "auto", data: DataBundle | None = None, metrics: Sequence[str] | None = None,
             control: Control | None = None) -> EnsembleResult:
    """Average the probabilities of ``runs`` (Runs or run folders) and evaluate it with sklearn metrics.

    ``weights`` (one per run, ≥ 0) weight the average; equal by default. The data is taken from the
    first run that holds it, or rebuilt once from the first run's recipe. A ``control`` stops between
    members (the result then has ``status == "stopped"`` and covers the members scored so far).
    """
    runs = list(runs)
    if len(runs) < 2:
        raise UsageError("runs", len(runs), "allowed: two or more runs (Runs or run folders)")
    if weights is None:
        weights = [1.0] * len(runs)
    weights = list(weights)
    if len(weights) != len(runs) or any(isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0
                                        for w in weights) or sum(weights) <= 0:
        raise UsageError("weights", weights, f"allowed: {len(runs)} numbers ≥ 0 (one per run), not all zero")
    predictors = [as_predictor(r, checkpoint) for r in runs]
    first = predictors[0]
    if first.recipe is None:
        raise UsageError("runs", first.name, "allowed: runs with a recipe (a Run or a run folder)")
    reference = _section(first.recipe)
    for p in predictors[1:]:
        if p.recipe is None:
            raise UsageError("runs", p.name, "allowed: runs with a recipe (a Run or a run folder)")
        theirs = _section(p.recipe)
        diffs = [k for k in reference if reference[k] != theirs.get(k)]
        if diffs:
            k = diffs[0]
            raise UsageError("runs", p.name, f"was trained on other data than {first.name!r} (data.{k}: "
                             f"{theirs.get(k)!r} vs {reference[k]!r}); allowed: runs with the same data section, "
                             "so their test splits are the same samples")
        if p.classes != first.classes:
            raise UsageError("runs", p.name, f"predicts other classes than {first.name!r}; allowed: runs with the "
                             "same classes")
    if data is None:
        data = next((p.data for p in predictors if p.data is not None), None) or first.load_data()
    names = list(metrics or first.recipe.evaluate.metrics)
    control = control or Control()
    x, y = first.split_inputs(split, data)
    members: list[dict[str, Any]] = []
    used: list[int] = []
    status = "completed"
    for i, p in enumerate(predictors):
        if control.stop_requested:
            status = "stopped"
            break
        result = evaluate_logits(p.logits(x, prepared=True), y, data.classes, names, split)
        members.append({"name": _unique(p.name or f"run {i + 1}", members), "weight": float(weights[i]),
                        "metrics": {"loss": result.loss, **result.metrics}})
        used.append(i)
    if not used:
        raise UsageError("control", "stopped", "the ensemble was stopped before any member was scored")
    total = sum(weights[i] for i in used)
    for m in members:
        m["weight"] = m["weight"] / total
    model = EnsembleModel([predictors[i].model for i in used], [weights[i] for i in used])
    predictor = Predictor(model, first.preprocessor, name="ensemble of " + ", ".join(m["name"] for m in members),
                          recipe=first.recipe, data=data)
    evaluation = evaluate_logits(predictor.logits(x, prepared=True), y, data.classes, names, split)
    return EnsembleResult(evaluation, members, predictor, status)


def _section(recipe: Any) -> dict[str, Any]:
    return recipe.to_dict()["data"]


def _unique(name: str, members: list[dict[str, Any]]) -> str:
    taken = {m["name"] for m in members}
    out, i = name, 1
    while out in taken:
        i += 1
        out = f"{name} ({i})"
    return out
