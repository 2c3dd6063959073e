"""What the loop is built from: device, precision, optimizer, learning-rate schedule, monitor direction."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch
from torch import nn

from ..errors import DeviceError, ModelError
from ..recipe import TrainSection


def resolve_device(name: str) -> torch.device:
    """``auto`` → CUDA, then Apple MPS, then CPU; an explicit ``cuda`` must exist."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise DeviceError("train.device: 'cuda' — CUDA is not available on this machine; allowed: auto, cpu")
    return torch.device(name)


def resolve_precision(mode: str, device: torch.device) -> tuple[torch.dtype | None, bool]:
    """(autocast dtype or None, whether a GradScaler is needed)."""
    if mode == "off" or (mode == "auto" and device.type != "cuda"):
        return None, False
    if mode == "auto":
        return (torch.bfloat16, False) if torch.cuda.is_bf16_supported() else (torch.float16, True)
    if mode == "fp16":
        if device.type != "cuda":
            raise DeviceError(f"train.mixed_precision: 'fp16' — needs CUDA, the device is {device.type}; "
                              "allowed here: off, bf16, auto")
        return torch.float16, True
    return torch.bfloat16, False


def _sgd(params: list[nn.Parameter], cfg: TrainSection) -> torch.optim.Optimizer:
    return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def _momentum(nesterov: bool) -> Callable[[list[nn.Parameter], TrainSection], torch.optim.Optimizer]:
    def build(params: list[nn.Parameter], cfg: TrainSection) -> torch.optim.Optimizer:
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                               nesterov=nesterov)
    return build


def _adam(cls: Callable[..., torch.optim.Optimizer]) -> Callable[[list[nn.Parameter], TrainSection],
                                                                 torch.optim.Optimizer]:
    def build(params: list[nn.Parameter], cfg: TrainSection) -> torch.optim.Optimizer:
        return cls(params, lr=cfg.lr, betas=(cfg.beta1, 0.999), weight_decay=cfg.weight_decay)
    return build


# keyed by the names `lepton_nb.recipe.OPTIMIZERS` lists (one test checks they agree)
OPTIMIZERS: dict[str, Callable[[list[nn.Parameter], TrainSection], torch.optim.Optimizer]] = {
    "sgd": _sgd, "momentum": _momentum(False), "nesterov": _momentum(True),
    "adam": _adam(torch.optim.Adam), "adamw": _adam(torch.optim.AdamW),
}


def build_optimizer(model: nn.Module, cfg: TrainSection) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ModelError("model.freeze: every layer is frozen, nothing would train; allowed: none, or a "
                         "model with trainable layers")
    return OPTIMIZERS[cfg.optimizer](params, cfg)


Scheduler = Callable[[torch.optim.Optimizer, TrainSection, int, int], Any]


def _warmup_cosine(optimizer: torch.optim.Optimizer, cfg: TrainSection, steps_per_epoch: int, total: int) -> Any:
    sched = torch.optim.lr_scheduler
    warmup = min(total - 1, max(1, round(cfg.warmup_epochs * steps_per_epoch)))
    if warmup <= 0:
        return sched.CosineAnnealingLR(optimizer, T_max=total)
    return sched.SequentialLR(optimizer, [
        sched.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
        sched.CosineAnnealingLR(optimizer, T_max=max(1, total - warmup)),
    ], milestones=[warmup])


# keyed by the names `lepton_nb.recipe.SCHEDULERS` lists: (optimizer, settings, steps per epoch, total steps)
SCHEDULERS: dict[str, Scheduler] = {
    "none": lambda optimizer, cfg, steps, total: None,
    "step": lambda optimizer, cfg, steps, total: torch.optim.lr_scheduler.StepLR(
        optimizer, step_size=max(1, cfg.step_size * steps), gamma=cfg.gamma),
    "cosine": lambda optimizer, cfg, steps, total: torch.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=total),
    "one_cycle": lambda optimizer, cfg, steps, total: torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=cfg.lr, total_steps=total),
    "warmup_cosine": _warmup_cosine,
}


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainSection, steps_per_epoch: int) -> Any:
    """A scheduler stepped once per optimizer step (epoch-based settings are converted to steps)."""
    return SCHEDULERS[cfg.scheduler](optimizer, cfg, steps_per_epoch, max(1, cfg.epochs * steps_per_epoch))


def monitor_mode(monitor: str, mode: str) -> str:
    if mode != "auto":
        return mode
    return "min" if monitor.endswith("loss") else "max"
