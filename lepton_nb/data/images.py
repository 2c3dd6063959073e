"""Image files → 8-bit grey or RGB arrays by one stated rule, for training data and for `predict` alike.

PIL's own ``convert("RGB")`` clips 16-bit grey to 255 (a 16-bit PNG turns white) and drops the alpha channel
(transparent pixels show whatever colour they hide), so the conversion is written here, on top of PIL:

* grey (``L``, ``1``) is repeated on the three channels;
* 16-bit grey (``I;16``; also 32-bit integer ``I``) is divided by 257, so 0–65,535 maps onto 0–255
  (values outside that range are clipped);
* a palette (``P``) is expanded through its colours;
* transparency (``RGBA``, ``LA``, a palette with a transparent colour) is composited over white, as a viewer
  shows the image on a white page;
* other colour spaces (``CMYK``, ``YCbCr``, ``LAB``, ``HSV``) are converted by PIL;
* 32-bit float images (``F``) are refused: their range is unknown, and they may hold NaN.

A model with one input channel gets the luminance of the RGB result (PIL's ITU-R 601-2 weights).
`conversion_note` says in one line which files were converted how: the data summary shows it once.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import DataError

RULES = {
    "grey": "repeated on 3 channels",
    "16-bit grey": "divided by 257: 0–65,535 → 0–255",
    "palette": "expanded through its colours",
    "palette with transparency": "expanded, transparency composited over white",
    "RGBA": "transparency composited over white",
    "grey+alpha": "transparency composited over white",
}
ALPHA_MODES = ("RGBA", "LA", "PA", "RGBa", "La")
# modes no rule converts, and why
REFUSED_MODES = {"F": "is a 32-bit float image (its range is unknown and it may hold NaN)"}


def to_8bit(img: Any, channels: int = 3, field: str = "data.root", name: str = "") -> tuple[np.ndarray, str]:
    """``img`` (a PIL image) as uint8 [H, W, 3] (or [H, W] for ``channels`` 1) by the module's rule, and the kind
    of conversion it needed (``RGB`` when none)."""
    from PIL import Image

    mode = img.mode
    if mode in REFUSED_MODES:
        raise DataError(field, name or "image",
                        f"{REFUSED_MODES[mode]}; allowed: 8- or 16-bit images (PNG, JPEG, TIFF)")
    kind = {"RGB": "RGB", "L": "grey", "1": "grey", "P": "palette"}.get(mode, mode)
    if mode.startswith("I"):  # I;16, I;16B, I;16L, I
        grey = np.clip(np.round(np.asarray(img, dtype=np.float64) / 257.0), 0, 255).astype(np.uint8)
        img, kind = Image.fromarray(grey, "L"), "16-bit grey"
    elif mode == "P":
        transparent = "transparency" in img.info
        img = img.convert("RGBA" if transparent else "RGB")
        kind = "palette with transparency" if transparent else "palette"
    if img.mode in ALPHA_MODES:
        if kind not in ("palette with transparency",):
            kind = "grey+alpha" if img.mode in ("LA", "La") else "RGBA"
        rgba = img.convert("RGBA")
        img = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    rgb = img.convert("RGB")
    out = rgb.convert("L") if channels == 1 else rgb
    return np.asarray(out, dtype=np.uint8), kind


def read_image(path: Path | Any, size: tuple[int, int], channels: int = 3,
               field: str = "data.root") -> tuple[np.ndarray, str]:
    """An image file (or PIL image) converted by the rule and resized (bilinear) to ``size`` (width, height)."""
    from PIL import Image, UnidentifiedImageError

    name = str(path) if isinstance(path, (str, Path)) else "image"
    try:
        img = Image.open(path) if isinstance(path, (str, Path)) else path
        with img:
            arr, kind = to_8bit(img, channels, field, name)
    except (OSError, UnidentifiedImageError, ValueError) as exc:
        raise DataError(field, name, f"cannot be read as an image ({exc})") from None
    resized = Image.fromarray(arr).resize(size, Image.BILINEAR)
    return np.asarray(resized, dtype=np.uint8), kind


def conversion_note(kinds: Counter) -> str | None:
    """One line: how many files needed which conversion (None when every file was 8-bit RGB)."""
    parts = [f"{n} {kind} ({RULES.get(kind, 'converted by PIL')})" for kind, n in sorted(kinds.items())
             if kind != "RGB"]
    if not parts:
        return None
    return "images converted to 8-bit RGB: " + ", ".join(parts)


STREAMED_NOTE = ("images are converted to 8-bit RGB as they are read: grey repeated on 3 channels, 16-bit grey "
                 "divided by 257, palettes expanded, transparency composited over white")
