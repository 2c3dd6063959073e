"""Names shared by the recipe and the rest of the package: data sources (with their kind and the data fields they
read), metrics and monitors (architectures: `archs`; optimizers and schedules: `optimizers`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .archs import ARCHS_FOR_KIND
from .fields import Names


@dataclass(frozen=True)
class DataKind:
    """What a kind of data means to the code that handles it."""

    pixels: bool = False  # images: values in [0, 1] per channel, drawn as pictures, blurred, clipped after noise
    tokens: bool = False  # sentences as token ids of a vocabulary: long tensors, words to show, no statistics
    columns: bool = False  # a table: named numeric columns, missing values to impute or drop


DATA_KINDS: dict[str, DataKind] = {"image": DataKind(pixels=True), "tabular": DataKind(columns=True),
                                   "text": DataKind(tokens=True)}


@dataclass(frozen=True)
class Source:
    """A dataset the recipe may name: its data kind, the ``data`` fields it reads, the one it cannot do without,
    and whether it comes with an official train/test split (torchvision's datasets)."""

    kind: str
    uses: frozenset[str] = frozenset()
    needs: str = ""
    official: bool = False


_TORCHVISION = frozenset({"root", "download", "official_split"})

SOURCES: dict[str, Source] = {
    "digits": Source("image"),
    "mnist": Source("image", _TORCHVISION, official=True),
    "fashion_mnist": Source("image", _TORCHVISION, official=True),
    "cifar10": Source("image", _TORCHVISION, official=True),
    "image_folder": Source("image", frozenset({"root", "image_size"}), needs="root"),
    "csv": Source("tabular", frozenset({"path", "target"}), needs="path"),
    "breast_cancer": Source("tabular"),
    "wine": Source("tabular"),
    "text_tsv": Source("text", frozenset({"path"}), needs="path"),
}

SOURCE_KIND: dict[str, str] = {name: source.kind for name, source in SOURCES.items()}


def sources_using(field: str) -> Names[Source]:
    return Names(SOURCES, lambda source: field in source.uses)


METRICS = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc")
MONITORS = ("val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1_macro", "train_loss")

def applies(applies_to: Any, context: set[Any]) -> bool:
    """The one rule of where a setting matters: a field or a whole section with ``applies_to`` applies when it
    names something in ``context`` (see `applies_context`); without ``applies_to`` it always does."""
    return not applies_to or bool(context & set(applies_to))


def applies_context(values: dict[str, Any]) -> set[Any]:
    """What ``applies_to`` names, read from a recipe's values (a dict, valid or not): the data source and its kind,
    the architecture, and the chosen scheduler, normalization, adversarial method and adapter."""
    data, model, train = values.get("data", {}), values.get("model", {}), values.get("train", {})
    source = data.get("source")
    return {source, SOURCE_KIND.get(source, ""), model.get("arch"), train.get("scheduler"),
            values.get("normalize", {}).get("method"), train.get("adversarial", {}).get("method"),
            model.get("adapter", {}).get("kind")}


__all__ = ["ARCHS_FOR_KIND", "DATA_KINDS", "METRICS", "MONITORS", "SOURCES", "SOURCE_KIND", "DataKind", "Source",
           "applies", "applies_context", "sources_using"]
