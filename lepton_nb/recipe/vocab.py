"""Names shared by the recipe and the rest of the package: data sources and their kinds, architectures, metrics."""

from __future__ import annotations

SOURCE_KIND: dict[str, str] = {
    "digits": "image",
    "mnist": "image",
    "fashion_mnist": "image",
    "cifar10": "image",
    "image_folder": "image",
    "csv": "tabular",
    "breast_cancer": "tabular",
    "wine": "tabular",
    "text_tsv": "text",
}

ARCHS_FOR_KIND: dict[str, tuple[str, ...]] = {
    "image": ("cnn", "resnet", "mlp", "resnet18"),
    "tabular": ("tabular_mlp", "mlp"),
    "text": ("text_bow", "text_cnn", "text_bilstm", "text_transformer"),  # first: a new text recipe's default
}

METRICS = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc")
MONITORS = ("val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1_macro", "train_loss")
