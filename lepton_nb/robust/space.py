"""The space an attack works in: inputs as the user sees them, mapped into the model by the run's normalization.

Attack libraries make two mistakes easy: an ε applied to normalized inputs (so "8/255" means something
else per channel) and perturbed pixels outside [0, 1]. Here the perturbation lives in *user units* —
pixels in [0, 1] for images, standard deviations of each column for tables — is clamped to the valid
range there, and only then passes through the run's normalization into the model. Nothing else is
possible by construction: `InputSpace` is the only way attacks reach a model.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import nn

from ..data.bundle import DataBundle
from ..data.normalize import NormStats
from ..errors import FieldError
from ..recipe import DATA_KINDS


class AttackError(FieldError):
    """An attack request that does not fit the run, its data or the allowed values."""


# an attack's norm → how its budget grows with the number of values of an input, and how a message says so
NORM_SCALE: dict[str, Callable[[int], float]] = {"linf": lambda dims: 1.0, "l2": math.sqrt}
NORM_SCOPE = {"linf": "", "l2": "the L2 norm of the whole valid range over the {dims} values of an input, in "}


@dataclass
class InputSpace:
    """Maps attack coordinates ``u`` (user units divided by ``unit``) to model inputs.

    ``u * unit`` is the input as the user sees it; ``lo``/``hi`` bound it (in u); ``norm`` is the run's
    own normalization, applied inside `model_input`; ``dims`` counts the values of one input (the L2 budget's
    limit grows with its square root).
    """

    kind: str
    norm: NormStats
    unit: torch.Tensor  # broadcastable to a batch: 1 for images, each column's std for tables
    lo: torch.Tensor
    hi: torch.Tensor
    unit_name: str
    dims: int = 1

    @classmethod
    def of(cls, data: DataBundle) -> InputSpace:
        """The input space of a run's data (images or tables; text has no continuous inputs to perturb)."""
        if DATA_KINDS[data.kind].tokens:
            raise AttackError("run", "text", "attacks are not supported for text (its inputs are word ids, "
                                             "not continuous values); allowed: an image or table run")
        if DATA_KINDS[data.kind].pixels:
            channels = data.input_shape[0]
            shape = (1, channels, 1, 1)
            one = torch.ones(shape)
            return cls("image", data.norm, one, torch.zeros(shape), one.clone(), "pixel values in [0, 1]",
                       math.prod(data.input_shape))
        std = torch.tensor([s if s > 0 else 1.0 for s in (data.norm.std or [1.0] * data.input_shape[0])])
        lo = torch.tensor(data.norm.min or [-float("inf")] * len(std)) / std
        hi = torch.tensor(data.norm.max or [float("inf")] * len(std)) / std
        return cls("tabular", data.norm, std.view(1, -1), lo.view(1, -1), hi.view(1, -1),
                   "standard deviations of each column (train split)", len(std))

    def to_u(self, user: torch.Tensor) -> torch.Tensor:
        return user / self.unit.to(user)

    def to_user(self, u: torch.Tensor) -> torch.Tensor:
        return u * self.unit.to(u)

    def from_model(self, x: torch.Tensor) -> torch.Tensor:
        """Model inputs (normalized) back to attack coordinates."""
        return self.to_u(self.norm.invert(x))

    def model_input(self, u: torch.Tensor) -> torch.Tensor:
        return self.norm.apply(self.to_user(u))

    def bounds(self, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The valid range around clean inputs ``u`` (a clean value outside the train range stays valid)."""
        lo, hi = self.lo.to(u), self.hi.to(u)
        return torch.minimum(lo, u), torch.maximum(hi, u)

    def widest(self, norm: str = "linf") -> float:
        """The largest ε that means something: the width of the valid range per value (L∞: 1 pixel, 100 standard
        deviations), or for L2 the norm of that width over every value of an input (``sqrt(dims)`` pixels)."""
        per_value = 1.0 if DATA_KINDS[self.kind].pixels else 100.0
        return per_value * NORM_SCALE[norm](self.dims)

    def check_eps(self, eps: float, field: str = "eps", norm: str = "linf", method: str = "") -> float:
        """ε must be a finite number in [0, `widest`] for the attack's norm (``method`` names it in the message)."""
        try:
            value = float(eps)
        except (TypeError, ValueError):
            raise AttackError(field, eps, "allowed: a number") from None
        widest = self.widest(norm)
        if not (0.0 <= value <= widest):  # also catches NaN
            what = f" for {method}" if method else ""
            scope = NORM_SCOPE[norm].format(dims=self.dims)
            raise AttackError(field, eps, f"allowed{what}: a number from 0 to {widest:.4g} ({scope}"
                                          f"{self.unit_name})")
        return value


class UserSpaceModel(nn.Module):
    """A classifier of attack coordinates: the run's normalization followed by the run's model."""

    def __init__(self, model: nn.Module, space: InputSpace):
        super().__init__()
        quantized = [type(m).__name__ for m in model.modules() if ".quantized" in type(m).__module__ or type(
            m.__dict__.get("_parameters", {}).get("weight")).__module__.startswith("torchao") or type(
            m).__name__ == "Float16WeightLinear"]
        if quantized:  # no gradients through int8 weights: torch would pass zero or wrong gradients silently
            raise AttackError("run", f"quantized ({quantized[0]})", "attacks need the model's gradients; "
                                                                     "allowed: the run before quantization")
        self.model, self.space = model, space
        self.training = model.training  # the wrapper reports the mode of the model it wraps

    def forward(self, u: torch.Tensor) -> torch.Tensor:
        return self.model(self.space.model_input(u))


@contextmanager
def evaluating(model: nn.Module) -> Iterator[nn.Module]:
    """``model`` in eval mode inside the block; afterwards every submodule is back in the mode it had.

    Restoring each submodule (not calling ``model.train(was)``) matters: a wrapper made for the attack is in
    training mode by default, and a fine-tuned model keeps frozen parts in eval mode while it trains.
    """
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        yield model
    finally:
        for module, mode in modes:
            module.training = mode
