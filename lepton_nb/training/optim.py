"""What the loop is built from: device, precision, optimizer, learning-rate schedule, monitor direction."""

from __future__ import annotations

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


def build_optimizer(model: nn.Module, cfg: TrainSection) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ModelError("model.freeze: every layer is frozen, nothing would train; allowed: none, or a "
                         "model with trainable layers")
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    if cfg.optimizer in ("momentum", "nesterov"):
        return torch.optim.SGD(params, lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay,
                               nesterov=cfg.optimizer == "nesterov")
    cls = torch.optim.Adam if cfg.optimizer == "adam" else torch.optim.AdamW
    return cls(params, lr=cfg.lr, betas=(cfg.momentum, 0.999), weight_decay=cfg.weight_decay)


def build_scheduler(optimizer: torch.optim.Optimizer, cfg: TrainSection, steps_per_epoch: int) -> Any:
    """A scheduler stepped once per optimizer step (epoch-based settings are converted to steps)."""
    total = max(1, cfg.epochs * steps_per_epoch)
    sched = torch.optim.lr_scheduler
    if cfg.scheduler == "none":
        return None
    if cfg.scheduler == "step":
        return sched.StepLR(optimizer, step_size=max(1, cfg.step_size * steps_per_epoch), gamma=cfg.gamma)
    if cfg.scheduler == "cosine":
        return sched.CosineAnnealingLR(optimizer, T_max=total)
    if cfg.scheduler == "one_cycle":
        return sched.OneCycleLR(optimizer, max_lr=cfg.lr, total_steps=total)
    warmup = min(total - 1, max(1, round(cfg.warmup_epochs * steps_per_epoch)))
    if warmup <= 0:
        return sched.CosineAnnealingLR(optimizer, T_max=total)
    return sched.SequentialLR(optimizer, [
        sched.LinearLR(optimizer, start_factor=0.01, total_iters=warmup),
        sched.CosineAnnealingLR(optimizer, T_max=max(1, total - warmup)),
    ], milestones=[warmup])


def monitor_mode(monitor: str, mode: str) -> str:
    if mode != "auto":
        return mode
    return "min" if monitor.endswith("loss") else "max"
