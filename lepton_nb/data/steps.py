"""Batch steps: the one seam through which a run changes its training batches before the forward pass.

Adversarial training (`lepton_nb.robust.training.Adversary`: inputs the current model gets wrong), masked-token
pretraining (`lepton_nb.data.pretrain.MaskTokens`: hide tokens, predict them) and, next, contrastive views are
each a `BatchStep` that the run's plan hands the Trainer in a list; the loop calls every step in order and
knows none of them. A step draws its randomness from the run's own generators seeded by (seed, epoch or step),
so a resumed run continues exactly as the uninterrupted one.
"""

from __future__ import annotations

import torch
from torch import nn


class BatchStep:
    """Turns a training batch ``(inputs, targets)`` into the one the model trains on; optional epoch hooks.

    ``train_metrics`` joins the epoch's training metrics (e.g. the seconds adversarial examples cost);
    ``val_metrics`` joins the validation metrics when there is a validation split (e.g. robust accuracy).
    """

    def start_epoch(self, epoch: int, device: torch.device) -> None:
        """Called before each epoch's first batch."""

    def __call__(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor,
                 step: int) -> tuple[torch.Tensor, torch.Tensor]:
        raise NotImplementedError

    def train_metrics(self) -> dict[str, float]:
        return {}

    def val_metrics(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        return {}
