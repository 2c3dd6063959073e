"""Readable names and one-line explanations of the metrics a run logs.

Machine keys (``balanced_accuracy``, ``val_f1_macro``) stay in recipes, histories and exports; views
show the label and explain it on hover, so a student reads "balanced accuracy" and learns what it means.
"""

from __future__ import annotations

METRIC_TEXT: dict[str, tuple[str, str]] = {
    "loss": ("loss", "mean cross-entropy: what training minimizes; lower is better"),
    "accuracy": ("accuracy", "share of samples whose predicted class is the true one"),
    "balanced_accuracy": ("balanced accuracy", "mean of the per-class recalls: every class counts the same, "
                                               "however rare"),
    "precision_macro": ("precision (class mean)", "of the samples predicted as a class, the share that truly "
                                                  "belong to it; averaged over classes"),
    "recall_macro": ("recall (class mean)", "of the samples of a class, the share the model finds; averaged over "
                                            "classes"),
    "f1_macro": ("F1 (class mean)", "harmonic mean of precision and recall of each class, averaged over classes"),
    "roc_auc": ("ROC AUC", "chance that a sample of a class gets a higher score for it than a sample of another "
                           "class (one-vs-rest, averaged); 0.5 is guessing"),
    "robust_accuracy": ("accuracy under PGD", "accuracy on inputs perturbed by a PGD attack within ε"),
    "masked_loss": ("masked-token loss", "pretraining: cross-entropy of the hidden words the encoder predicted"),
    "masked_accuracy": ("masked-token accuracy", "pretraining: share of hidden words predicted exactly"),
}
PREFIXES = {"val_": "validation ", "train_": "training ", "test_": "test "}


def _split(key: str) -> tuple[str, str]:
    for prefix, words in PREFIXES.items():
        if key.startswith(prefix) and key[len(prefix):] in METRIC_TEXT:
            return words, key[len(prefix):]
    return "", key


def metric_label(key: str) -> str:
    """``"val_balanced_accuracy"`` → ``"validation balanced accuracy"``; unknown keys come back unchanged."""
    words, base = _split(key)
    return words + METRIC_TEXT[base][0] if base in METRIC_TEXT else key


def metric_help(key: str) -> str:
    """The one-line explanation shown on hover ("" for keys that are not metrics)."""
    words, base = _split(key)
    if base not in METRIC_TEXT:
        return ""
    where = {"validation ": " (validation split)", "training ": " (training batches)", "test ": " (test split)"}
    return METRIC_TEXT[base][1] + where.get(words, "")


__all__ = ["METRIC_TEXT", "metric_help", "metric_label"]
