"""What makes the studio usable with a keyboard and a screen reader, in one place every panel builds through.

- `labelled`: the one way a control gets its name. The visible label is the widget's own ``description``,
  which ipywidgets draws as a ``<label for=…>`` linked to the input, so assistive technology reads the same
  words a sighted user sees, and a locked field (disabled, with its reason as tooltip) keeps its name.
- `number`: a number field (never a slider: a slider's handles have no accessible name in ipywidgets) that
  steps by a sensible amount for its scale: whole numbers by 1, log-scaled fields ×/÷ along 1-2-5
  (0.002 → 0.005 → 0.01), other decimals by one unit of their second significant digit. The front end
  (widgets/access.js) does the stepping on ArrowUp/ArrowDown; ``step`` is the browser's own fallback.
- `Picture`: the image widget of the studio, shown with a text alternative (`describe_png`) that says what it
  shows: ipywidgets puts the tooltip in the ``title`` of the ``<img>``, the name a screen reader reads.
"""

from __future__ import annotations

import math

import ipywidgets as W
import traitlets as t

LABEL_WIDTH = "130px"
INPUT_WIDTH = "170px"
NAMED = "lnb-labelled"  # every control built through `labelled` carries this class (tests find them by it)
STEP_LOG = "lnb-step-log"  # number fields stepped ×/÷ by the front end
STEP_LINEAR = "lnb-step-linear"  # decimal fields stepped by a unit of their second significant digit


def _px(width: str) -> int:
    return int(width.removesuffix("px"))


def labelled(widget: W.Widget, label: str, *, label_width: str | None = LABEL_WIDTH,
             input_width: str | None = INPUT_WIDTH) -> W.Widget:
    """Give ``widget`` its visible, linked label and return it.

    ``label_width``: the label's column (None: as wide as the words, for short labels in a row);
    ``input_width``: the input's own width (the widget is as wide as both). A checkbox's label is its
    description beside the box, so it needs no column.
    """
    if not label.strip():
        raise ValueError("a control needs a visible label")
    widget.description = label
    if isinstance(widget, W.Checkbox):
        widget.indent = label_width is not None  # the box lines up with the fields' inputs
        if label_width is not None:
            widget.style.description_width = label_width
        if input_width is not None and label_width is not None:
            widget.layout.width = f"{_px(label_width) + _px(input_width)}px"
    elif isinstance(widget, W.Button):
        raise TypeError("a button is named by its own text (W.Button(description=...))")
    else:
        widget.style.description_width = label_width or "initial"
        if input_width is not None and label_width is not None:
            widget.layout.width = f"{_px(label_width) + _px(input_width)}px"
    widget.add_class(NAMED)
    return widget


def step_for(value: float, lo: float | None = None, hi: float | None = None, integer: bool = False) -> float:
    """The browser's fallback step of a number field: 1 for whole numbers; otherwise one unit of the value's
    second significant digit (0.004 → 0.0001 ... 0.21 → 0.01, 16 → 1); for 0, a tenth of the range's
    order of magnitude, at most 0.1."""
    if integer:
        return 1
    if value and math.isfinite(value):
        return 10.0 ** (math.floor(math.log10(abs(value))) - 1)
    span = (hi - lo) if lo is not None and hi is not None and hi > lo else 1.0
    return min(0.1, 10.0 ** (math.floor(math.log10(span)) - 1))


def stepped(widget: W.Widget, *, lo: float | None = None, hi: float | None = None, integer: bool = False,
            log: bool = False) -> W.Widget:
    """Mark a number field for the front end's stepping (see the module docstring) and set its fallback step."""
    if not integer:
        value = widget.value if isinstance(widget.value, (int, float)) else 0.0
        widget.step = step_for(float(value), lo, hi)
    widget.add_class(STEP_LOG if log else STEP_LINEAR if not integer else "lnb-step-int")
    return widget


def number(value: float, label: str, *, lo: float, hi: float, integer: bool = False, log: bool = False,
           tooltip: str | None = None, label_width: str | None = LABEL_WIDTH,
           input_width: str | None = "90px") -> W.Widget:
    """A bounded number field with its label and a step that fits its scale."""
    cls = W.BoundedIntText if integer else W.BoundedFloatText
    widget = cls(value=value, min=lo, max=hi, tooltip=tooltip, continuous_update=False)
    stepped(widget, lo=lo, hi=hi, integer=integer, log=log)
    return labelled(widget, label, label_width=label_width, input_width=input_width)


class Picture(W.Image):
    """An image whose text alternative reaches the page.

    ipywidgets' front end writes a widget's tooltip into its ``title`` only after reading its description, which
    an Image lacks: its state update then fails and the picture breaks. An empty synced description fixes that.
    """

    description = t.Unicode("").tag(sync=True)


def describe_png(image: Picture, alt: str) -> None:
    """Set the text alternative of an image widget: what the picture shows, read by screen readers."""
    if not isinstance(image, Picture):
        raise TypeError("studio images are access.Picture widgets (a plain W.Image cannot carry its text)")
    image.tooltip = alt or None
