"""The adversary of adversarial training: turns a batch of model inputs into its adversarial version.

Training batches arrive normalized (and augmented); the adversary maps them back to user units, attacks
there with the recipe's ε (the same units `attack` and `robustness` use), and hands the model the
normalized result. PGD (Madry et al. 2018) costs ``steps`` extra forward/backward passes per batch,
FGSM with random start (Wong et al. 2020) one.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import torch
from torch import nn

from ..data.bundle import DataBundle
from ..data.steps import BatchStep
from ..recipe.sections import AdversarialSection, TrainSection
from .attacks import fgsm_rs, pgd, run_attack
from .space import InputSpace, UserSpaceModel, evaluating

# train.adversarial.method → (model in user units, space, inputs, labels, ε, settings, generator) → adversarial inputs
AdversarialAttack = Callable[[nn.Module, InputSpace, torch.Tensor, torch.Tensor, float, AdversarialSection,
                              torch.Generator | None], torch.Tensor]
ADVERSARIES: dict[str, AdversarialAttack] = {
    "pgd": lambda net, space, u, y, eps, cfg, g: pgd(net, space, u, y, eps, steps=cfg.steps, alpha=cfg.alpha,
                                                     generator=g),
    "fgsm_rs": lambda net, space, u, y, eps, cfg, g: fgsm_rs(net, space, u, y, eps, cfg.alpha, g),
}


class Adversary(BatchStep):
    """A `BatchStep`: adversarial versions of training batches; after each epoch, the seconds they cost and the
    robust accuracy of a fixed validation subset."""

    def __init__(self, cfg: AdversarialSection, data: DataBundle, seed: int = 0):
        self.cfg = cfg
        self.space = InputSpace.of(data)
        self.eps = self.space.check_eps(cfg.eps, "train.adversarial.eps")
        self.generator: torch.Generator | None = None
        self.seed = seed
        self.seconds = 0.0  # spent making adversarial batches this epoch
        self._val: tuple[torch.Tensor, torch.Tensor] | None = None
        self.data = data

    def start_epoch(self, epoch: int, device: torch.device) -> None:
        """Random starts drawn from (seed, epoch): a resumed run attacks exactly as the uninterrupted one."""
        self.generator = torch.Generator(device=device).manual_seed(self.seed * 1_000_003 + 7919 * epoch + 29)
        self.seconds = 0.0

    def __call__(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor,
                 step: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
        """The batch with its first ``ratio`` share replaced by adversarial inputs (model space in and out)."""
        return self.perturb(model, xb, yb), yb

    def perturb(self, model: nn.Module, xb: torch.Tensor, yb: torch.Tensor) -> torch.Tensor:
        t0 = time.perf_counter()
        if self.generator is None or self.generator.device != xb.device:
            self.start_epoch(0, xb.device)
        k = round(self.cfg.ratio * len(xb))
        if k == 0:
            return xb
        net = UserSpaceModel(model, self.space)
        u = self.space.from_model(xb[:k].detach().float())
        with evaluating(model):  # no batch-norm statistics from the attack's passes, no dropout in them
            adv = ADVERSARIES[self.cfg.method](net, self.space, u, yb[:k], self.eps, self.cfg, self.generator)
        out = torch.cat([self.space.model_input(adv).to(xb.dtype), xb[k:]]) if k < len(xb) else \
            self.space.model_input(adv).to(xb.dtype)
        self.seconds += time.perf_counter() - t0
        return out.detach()

    def train_metrics(self) -> dict[str, float]:
        return {"adversarial_seconds": self.seconds}  # what adversarial training costs, beside the epoch time

    def val_metrics(self, model: nn.Module, device: torch.device) -> dict[str, float]:
        robust = self.robust_accuracy(model, device)
        return {} if robust is None else {"val_robust_accuracy": robust}

    def robust_accuracy(self, model: nn.Module, device: torch.device) -> float | None:
        """PGD accuracy (the recipe's ε, at least 10 steps) on a fixed, seeded validation subset."""
        n = self.cfg.val_samples
        if n == 0 or not len(self.data.val) or self.data.lazy:
            return None
        if self._val is None:
            size = len(self.data.val)
            idx = torch.randperm(size, generator=torch.Generator().manual_seed(self.seed))[:n].sort().values
            self._val = (self.space.to_u(self.data.raw("val", idx).float()), self.data.labels("val")[idx])
        u, y = (t.to(device) for t in self._val)
        net = UserSpaceModel(model, self.space)
        adv = run_attack("pgd", net, self.space, u, y, self.eps, steps=max(10, self.cfg.steps), seed=self.seed)
        with evaluating(model), torch.no_grad():
            return float((net(adv).argmax(1) == y).float().mean())


def adversarial_steps(cfg: TrainSection, data: DataBundle) -> list[BatchStep]:
    """The batch steps of the recipe's adversarial training: its `Adversary`, or none (method ``none``)."""
    return [Adversary(cfg.adversarial, data, cfg.seed)] if cfg.adversarial.method in ADVERSARIES else []
