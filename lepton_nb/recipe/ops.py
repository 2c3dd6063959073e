"""Augmentation ops and their numeric parameters (range and help): validation and forms read them."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Param:
    default: float
    min: float
    max: float
    help: str
    integer: bool = False
    label: str = ""  # words a newcomer reads where the name is technical (``n_steps`` → "steps")


@dataclass(frozen=True)
class OpSpec:
    """An augmentation op: which data kinds it applies to, its parameters, and a check of how its values fit
    together (``(op) -> (parameter, what is allowed)`` of the first that does not, or None). Its behaviour is
    `lepton_nb.data.augment.OPS` under the same name."""

    kinds: tuple[str, ...]
    help: str
    params: dict[str, Param]
    check: Callable[[dict[str, Any]], tuple[str, str] | None] | None = None


def _erased_area(op: dict[str, Any]) -> tuple[str, str] | None:
    if op.get("scale_min", 0) > op.get("scale_max", 1):
        return "scale_min", f"allowed: at most scale_max ({op.get('scale_max')})"
    return None


AUGMENT_OPS: dict[str, OpSpec] = {
    "random_crop": OpSpec(
        ("image",),
        "Pad by `padding` pixels, then crop back to the original size at a random offset.",
        {"padding": Param(2, 0, 32, "pixels of zero padding on each side", integer=True)},
    ),
    "horizontal_flip": OpSpec(
        ("image",),
        "Mirror left-right with probability p (not for digits: a mirrored 2 is no 2).",
        {"p": Param(0.5, 0.0, 1.0, "probability of flipping")},
    ),
    "vertical_flip": OpSpec(
        ("image",),
        "Mirror top-bottom with probability p.",
        {"p": Param(0.5, 0.0, 1.0, "probability of flipping")},
    ),
    "rotation": OpSpec(
        ("image",),
        "Rotate by a random angle in [-degrees, degrees].",
        {"degrees": Param(10.0, 0.0, 180.0, "largest rotation in degrees")},
    ),
    "affine": OpSpec(
        ("image",),
        "Random rotation, translation, scale and shear in one resampling.",
        {
            "degrees": Param(10.0, 0.0, 180.0, "largest rotation in degrees"),
            "translate": Param(0.1, 0.0, 0.5, "largest shift as a fraction of width/height"),
            "scale": Param(0.1, 0.0, 0.5, "scale drawn from [1-scale, 1+scale]"),
            "shear": Param(0.0, 0.0, 45.0, "largest shear in degrees"),
        },
    ),
    "color_jitter": OpSpec(
        ("image",),
        "Random brightness, contrast and saturation factors in [1-x, 1+x].",
        {
            "brightness": Param(0.2, 0.0, 1.0, "brightness jitter"),
            "contrast": Param(0.2, 0.0, 1.0, "contrast jitter"),
            "saturation": Param(0.0, 0.0, 1.0, "saturation jitter (colour images only)"),
        },
    ),
    "gaussian_noise": OpSpec(
        ("image", "tabular"),
        "Add zero-mean Gaussian noise (images: on the [0, 1] scale; tabular: in standard deviations).",
        {"std": Param(0.05, 0.0, 1.0, "noise standard deviation")},
    ),
    "random_erasing": OpSpec(
        ("image",),
        "With probability p, blank a random rectangle covering a fraction of the image.",
        {
            "p": Param(0.5, 0.0, 1.0, "probability of erasing"),
            "scale_min": Param(0.02, 0.0, 1.0, "smallest erased area fraction"),
            "scale_max": Param(0.2, 0.0, 1.0, "largest erased area fraction"),
        },
        _erased_area,
    ),
    "word_dropout": OpSpec(
        ("text",),
        "Replace each word by the unknown token with probability p.",
        {"p": Param(0.1, 0.0, 0.9, "probability of dropping a word")},
    ),
    "word_swap": OpSpec(
        ("text",),
        "Swap each word with its right neighbour with probability p.",
        {"p": Param(0.1, 0.0, 0.9, "probability of swapping a word")},
    ),
}


def default_op(name: str) -> dict[str, Any]:
    """An augmentation op entry with every parameter at its default."""
    params = AUGMENT_OPS[name].params
    return {"op": name, **{k: (int(p.default) if p.integer else p.default) for k, p in params.items()}}
