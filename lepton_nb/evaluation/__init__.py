"""Evaluation: sklearn metrics, confusion matrix, per-class report and top losses of a model on a split.

`evaluate` dispatches on one explicit protocol: an ``nn.Module`` takes model-space (prepared,
normalized) inputs and needs the `DataBundle`; anything else must be `Evaluable` — a `Run`, a
`Predictor` or an ensemble evaluates itself, each knowing whether its model normalizes its inputs.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from torch import nn

from ..data.bundle import DataBundle
from ..errors import UsageError
from .metrics import (
    METRIC_FUNCTIONS,
    EvalResult,
    compute_metrics,
    evaluate_logits,
    evaluate_model,
    predict_logits,
)


@runtime_checkable
class Evaluable(Protocol):
    """Something that evaluates itself on a split of its data (or of ``data``)."""

    def evaluate(self, split: str = "test", data: DataBundle | None = None,
                 metrics: Sequence[str] | None = None) -> EvalResult: ...


def evaluate(source: Any, data: DataBundle | None = None, split: str = "test",
             metrics: Sequence[str] | None = None, batch_size: int = 1024) -> EvalResult:
    """Metrics of a model, a finished `Run`, a `Predictor` or an ensemble on a split.

    ``lnb.evaluate(run)`` uses the run's model, data and metric list; pass ``data``/``split`` to
    evaluate elsewhere. A bare ``nn.Module`` must take model-space inputs and needs ``data``.
    """
    if isinstance(source, nn.Module):
        if data is None:
            raise UsageError("data", None, "evaluate(model, data): allowed: the DataBundle the model was trained "
                             "on, or pass a Run / Predictor instead of a bare model")
        return evaluate_model(source, data, split, metrics, batch_size)
    if isinstance(source, Evaluable):
        return source.evaluate(split, data=data, metrics=metrics)
    raise UsageError("evaluate", type(source).__name__, "allowed: a Run, a Predictor, an ensemble result, or an "
                     "nn.Module with its DataBundle")


__all__ = ["METRIC_FUNCTIONS", "EvalResult", "Evaluable", "compute_metrics", "evaluate", "evaluate_logits",
           "evaluate_model", "predict_logits"]
