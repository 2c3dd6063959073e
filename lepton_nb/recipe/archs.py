"""The architectures a recipe may name, and what each can do: one table that validation, the forms and the model
registry (`lepton_nb.models.registry.BUILDERS`, keyed by the same names) read.

Adding an architecture touches two files: an entry here, and its builder registered in its family's module.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from .fields import Names


@dataclass(frozen=True)
class Arch:
    """An architecture: the data kinds it reads, the model fields it uses beyond depth, hidden, dropout and
    batch_norm (``uses``), and its capabilities."""

    kinds: tuple[str, ...]
    uses: frozenset[str] = frozenset()  # e.g. width, embed_dim, heads, positions, pooling, buckets
    conv: bool = False  # has a Conv2d layer (what Grad-CAM explains)
    adapters: bool = True  # LoRA adapters can wrap its layers
    batch_norm: bool = False  # always normalizes batches, whatever model.batch_norm says (2+ samples a batch)
    weights: str = ""  # URL of torchvision's ImageNet weights (model.pretrained)
    encoder: bool = False  # a transformer encoder: heads split embed_dim; masked-token pretraining
    embedding: bool = False  # reads token ids through an nn.Embedding (what embedding attributions explain)


# in order: the first architecture of a data kind is a new recipe's default for it
ARCHS: dict[str, Arch] = {
    "cnn": Arch(("image",), frozenset({"width"}), conv=True),
    "resnet": Arch(("image",), frozenset({"width"}), conv=True),
    "tabular_mlp": Arch(("tabular",)),
    "mlp": Arch(("image", "tabular")),
    "resnet18": Arch(("image",), conv=True, adapters=False, batch_norm=True,
                     weights="https://download.pytorch.org/models/resnet18-f37072fd.pth"),
    "text_bow": Arch(("text",), frozenset({"embed_dim", "buckets"}), embedding=True),
    "text_cnn": Arch(("text",), frozenset({"width", "embed_dim"}), embedding=True),
    "text_bilstm": Arch(("text",), frozenset({"embed_dim"}), adapters=False, embedding=True),
    "text_transformer": Arch(("text",), frozenset({"embed_dim", "heads", "positions", "pooling"}), encoder=True,
                             embedding=True),
}


def archs_using(field: str) -> Names[Arch]:
    """The architectures that read ``model.<field>``."""
    return Names(ARCHS, lambda arch: field in arch.uses)


def archs_for(kind: str) -> tuple[str, ...]:
    """The architectures for a data kind, its default first."""
    return tuple(name for name, arch in ARCHS.items() if kind in arch.kinds)


class ArchsForKind(Mapping[str, tuple[str, ...]]):
    """``ARCHS_FOR_KIND[kind]``: `archs_for` as a mapping (live)."""

    def __getitem__(self, kind: str) -> tuple[str, ...]:
        return archs_for(kind)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys(k for arch in ARCHS.values() for k in arch.kinds))

    def __len__(self) -> int:
        return sum(1 for _ in self)


ARCHS_FOR_KIND = ArchsForKind()
