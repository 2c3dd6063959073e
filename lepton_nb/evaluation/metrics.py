"""Evaluation through sklearn.metrics: scores, confusion matrix, per-class report, top losses."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from ..data.bundle import DataBundle
from ..errors import UsageError
from ..recipe import METRICS


class _LazyMetrics:
    """sklearn.metrics, imported on first use (importing scikit-learn costs ~1.5 s at startup)."""

    def __getattr__(self, name: str) -> Any:
        from sklearn import metrics

        return getattr(metrics, name)


skm = _LazyMetrics()


def _roc_auc(y_true: np.ndarray, y_pred: np.ndarray, probs: np.ndarray) -> float:
    n_classes = probs.shape[1]
    if len(np.unique(y_true)) < 2:
        return float("nan")
    if n_classes == 2:
        return float(skm.roc_auc_score(y_true, probs[:, 1]))
    if len(np.unique(y_true)) < n_classes:
        return float("nan")  # one-vs-rest needs every class among the true labels
    return float(skm.roc_auc_score(y_true, probs, multi_class="ovr", labels=list(range(n_classes))))


METRIC_FUNCTIONS: dict[str, Callable[[np.ndarray, np.ndarray, np.ndarray], float]] = {
    "accuracy": lambda t, p, _: skm.accuracy_score(t, p),
    "balanced_accuracy": lambda t, p, _: skm.balanced_accuracy_score(t, p),
    "precision_macro": lambda t, p, _: skm.precision_score(t, p, average="macro", zero_division=0),
    "recall_macro": lambda t, p, _: skm.recall_score(t, p, average="macro", zero_division=0),
    "f1_macro": lambda t, p, _: skm.f1_score(t, p, average="macro", zero_division=0),
    "roc_auc": _roc_auc,
}
assert set(METRIC_FUNCTIONS) == set(METRICS)


def compute_metrics(y_true: np.ndarray, y_pred: np.ndarray, probs: np.ndarray,
                    names: list[str] | tuple[str, ...] = ("accuracy",)) -> dict[str, float]:
    """The named metrics (see ``recipe.METRICS``) of one set of predictions."""
    if len(y_true) == 0:
        return {n: float("nan") for n in names}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # sklearn warns when a class is absent from a small split
        return {n: float(METRIC_FUNCTIONS[n](y_true, y_pred, probs)) for n in names}


@torch.inference_mode()
def predict_logits(model: nn.Module, inputs: torch.Tensor, batch_size: int = 1024,
                   device: torch.device | str | None = None) -> torch.Tensor:
    """Logits for every input, in eval mode, batched; returned as float32 on the CPU."""
    device = torch.device(device) if device is not None else next(model.parameters()).device
    was_training = model.training
    model.eval()
    try:
        outs = [model(inputs[i:i + batch_size].to(device)).float().cpu() for i in range(0, len(inputs), batch_size)]
    finally:
        model.train(was_training)
    return torch.cat(outs) if outs else torch.empty(0)


@dataclass
class EvalResult:
    """Everything measured on one split; arrays are aligned with the split's sample order."""

    split: str
    classes: list[str]
    metrics: dict[str, float]
    loss: float
    confusion: np.ndarray
    per_class: list[dict[str, Any]]
    y_true: np.ndarray
    y_pred: np.ndarray
    probs: np.ndarray
    losses: np.ndarray = field(repr=False)

    def top_losses(self, k: int = 16) -> np.ndarray:
        """Indices of the ``k`` samples with the highest loss, highest first."""
        return np.argsort(-self.losses, kind="stable")[:k]

    def misclassified(self, true: int | None = None, pred: int | None = None) -> np.ndarray:
        """Indices of wrong predictions, optionally only of one confusion-matrix cell (true → pred)."""
        mask = self.y_true != self.y_pred
        if true is not None:
            mask &= self.y_true == true
        if pred is not None:
            mask &= self.y_pred == pred
        return np.flatnonzero(mask)

    def cell(self, true: int, pred: int) -> np.ndarray:
        """Indices of samples of class ``true`` predicted as ``pred`` (a confusion-matrix cell)."""
        return np.flatnonzero((self.y_true == true) & (self.y_pred == pred))

    def to_dict(self) -> dict[str, Any]:
        return {"split": self.split, "metrics": self.metrics, "loss": self.loss,
                "confusion": self.confusion.tolist(), "per_class": self.per_class, "classes": self.classes}

    def table(self) -> str:
        """Metrics as aligned text lines."""
        rows = [f"{k:<18} {v:.4f}" for k, v in self.metrics.items()]
        return "\n".join([f"{'loss':<18} {self.loss:.4f}", *rows])


def evaluate_logits(logits: torch.Tensor, y_true: torch.Tensor | np.ndarray, classes: list[str],
                    metric_names: list[str] | tuple[str, ...] = ("accuracy",), split: str = "test") -> EvalResult:
    y = torch.as_tensor(y_true, dtype=torch.long)
    losses = nn.functional.cross_entropy(logits, y, reduction="none").numpy() if len(y) else np.empty(0)
    probs = torch.softmax(logits, 1).numpy() if len(y) else np.empty((0, len(classes)))
    y_np = y.numpy()
    y_pred = probs.argmax(1) if len(y) else np.empty(0, dtype=np.int64)
    labels = list(range(len(classes)))
    confusion = skm.confusion_matrix(y_np, y_pred, labels=labels) if len(y) else np.zeros((len(classes),) * 2, int)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        p, r, f, s = skm.precision_recall_fscore_support(y_np, y_pred, labels=labels, zero_division=0) \
            if len(y) else ([0.0] * len(labels),) * 3 + ([0] * len(labels),)
    per_class = [{"class": c, "precision": float(p[i]), "recall": float(r[i]), "f1": float(f[i]),
                  "support": int(s[i])} for i, c in enumerate(classes)]
    return EvalResult(split, list(classes), compute_metrics(y_np, y_pred, probs, metric_names),
                      float(losses.mean()) if len(losses) else float("nan"), confusion, per_class,
                      y_np, y_pred, probs, losses)


def evaluate_model(model: nn.Module, data: DataBundle, split: str = "test",
                   metrics: Sequence[str] | None = None, batch_size: int = 1024) -> EvalResult:
    """Evaluate a classifier that takes model-space inputs (``data``'s prepared, normalized inputs)."""
    metrics = list(metrics or ("accuracy", "balanced_accuracy", "f1_macro"))
    if split not in data.splits:
        raise UsageError("split", split, f"allowed: {', '.join(data.splits)}")
    if data.lazy:
        logits, ys = [], []
        device = next(model.parameters()).device
        for xb, yb in data.batches(split, batch_size):
            logits.append(predict_logits(model, xb, batch_size, device))
            ys.append(yb)
        return evaluate_logits(torch.cat(logits), torch.cat(ys), data.classes, metrics, split)
    logits = predict_logits(model, data.inputs(split), batch_size)
    return evaluate_logits(logits, data.labels(split), data.classes, metrics, split)
