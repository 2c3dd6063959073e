"""Presets: tuned starting recipes for named datasets, each valid and tested."""

from __future__ import annotations

from typing import Any

PRESETS: dict[str, dict[str, Any]] = {
    "digits": {
        "name": "digits-cnn",
        "data": {"source": "digits"},
        "model": {"arch": "cnn", "width": 32, "depth": 2, "hidden": 128, "dropout": 0.2},
        "augment": {"ops": [{"op": "affine", "degrees": 8.0, "translate": 0.08, "scale": 0.08,
                             "shear": 0.0}]},
        "train": {"optimizer": "adamw", "lr": 5e-3, "batch_size": 64, "epochs": 12,
                  "scheduler": "one_cycle"},
    },
    "mnist": {
        "name": "mnist-cnn",
        "data": {"source": "mnist", "root": "data", "download": True},
        "model": {"arch": "cnn", "width": 16, "depth": 2, "hidden": 128, "dropout": 0.1},
        "train": {"optimizer": "adamw", "lr": 4e-3, "batch_size": 128, "epochs": 4,
                  "scheduler": "one_cycle"},
    },
    "fashion_mnist": {
        "name": "fashion-cnn",
        "data": {"source": "fashion_mnist", "root": "data", "download": True},
        "model": {"arch": "cnn", "width": 32, "depth": 2, "hidden": 128, "dropout": 0.2},
        "augment": {"ops": [{"op": "random_crop", "padding": 2}, {"op": "horizontal_flip", "p": 0.5}]},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 128, "epochs": 10},
    },
    "cifar10": {
        "name": "cifar10-resnet",
        "data": {"source": "cifar10", "root": "data", "download": True},
        "model": {"arch": "resnet", "width": 32, "depth": 3, "dropout": 0.1},
        "augment": {"ops": [{"op": "random_crop", "padding": 4}, {"op": "horizontal_flip", "p": 0.5}]},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 128, "epochs": 20},
    },
    "breast_cancer": {
        "name": "breast-cancer-mlp",
        "data": {"source": "breast_cancer"},
        "model": {"arch": "tabular_mlp", "hidden": 64, "depth": 2, "dropout": 0.2},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 32, "epochs": 30},
        "evaluate": {"metrics": ["accuracy", "balanced_accuracy", "f1_macro", "roc_auc"]},
    },
    "wine": {
        "name": "wine-mlp",
        "data": {"source": "wine"},
        "model": {"arch": "tabular_mlp", "hidden": 64, "depth": 2, "dropout": 0.2},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 16, "epochs": 40},
    },
    # a bag of words (fastText-style): on 1,000 sentences it matches TF-IDF + logistic regression, which the
    # text CNN and a transformer trained from scratch do not (benchmarks/bench_text.py). Its sizes and training
    # settings are text_bow's own defaults (recipe/defaults.py): picking another architecture brings that one's.
    "sentiment": {
        "name": "sentiment-bow",
        "data": {"source": "text_tsv", "path": "imdb_labelled.txt", "max_len": 48},
        "model": {"arch": "text_bow"},
        "augment": {"ops": [{"op": "word_dropout", "p": 0.1}]},
        "train": {"optimizer": "adamw"},
    },
}
