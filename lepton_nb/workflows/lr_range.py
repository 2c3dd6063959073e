"""Learning-rate range test: raise the rate exponentially over a few hundred batches, watch the loss.

The model is the one Start would train, built from the run's plan (`plan_run`): the same initial weights
(``model.init_from``, torchvision weights), frozen parts and adapters, so only the parameters that will train
are probed. Model and optimizer are fresh copies, so the test leaves nothing behind. The suggestion is the
rate where the smoothed loss falls fastest, a common and robust choice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch import nn

from ..data import DataBundle
from ..models import seed_dropout
from ..recipe import Recipe
from ..training.control import Control
from ..training.observers import Observers
from ..training.optim import build_optimizer, resolve_device
from ..training.strategy import SingleProcess
from .plan import RunOptions, plan_run


@dataclass
class LRFindResult:
    lrs: list[float]
    losses: list[float]  # smoothed, bias-corrected
    suggestion: float | None
    stopped_early: bool  # the loss exploded before the end of the range
    trainable: int = 0  # parameters the test moved: those Start trains (frozen parts stay out)

    def to_dict(self) -> dict:
        return dict(self.__dict__)

    def plot(self, ax: object) -> None:
        """Draw loss against learning rate (log scale) with the suggestion on a matplotlib axis."""
        from ..plotting import plot_lr_find

        plot_lr_find(ax, self.lrs, self.losses, self.suggestion)


def suggest_lr(lrs: np.ndarray, losses: np.ndarray) -> float | None:
    """The rate of the steepest descent of the loss over log(lr), before the minimum."""
    if len(lrs) < 8:
        return None
    stop = int(np.argmin(losses)) + 1
    if stop < 4:
        return None
    grads = np.gradient(losses[:stop], np.log10(lrs[:stop]))
    return float(lrs[int(np.argmin(grads))])


def lr_find(recipe: Recipe, data: DataBundle | None = None, *, start: float = 1e-6, end: float = 1.0, steps: int = 150,
            control: Control | None = None, model: nn.Module | None = None, beta: float = 0.9,
            diverge: float = 4.0) -> LRFindResult:
    """Run the range test on the model Start would train (``model``: your own module instead); ``control``
    lets another thread stop it.

    ``data`` defaults to the recipe's data (loaded here, with the tokenizer of the run it fine-tunes); the
    recipe's own learning rate is ignored.
    """
    plan = plan_run(recipe, RunOptions(out=None, data=data, model=model),
                    Observers(control=control if control is not None else Control()), SingleProcess())
    cfg, data = plan.settings, plan.data
    device = resolve_device(cfg.device)
    model = plan.build_model()[0].to(device)
    seed_dropout(model, cfg.seed * 1_000_003 + 11, device)  # its own generators: nothing global is touched
    optimizer = build_optimizer(model, cfg)
    for group in optimizer.param_groups:
        group["lr"] = start
    factor = (end / start) ** (1 / max(1, steps - 1))
    loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
    batches = data.batches("train", cfg.batch_size, train=True, seed=cfg.seed, device=device)
    lrs: list[float] = []
    losses: list[float] = []
    avg, best, epoch, stopped = 0.0, math.inf, 0, False
    model.train()
    while len(lrs) < steps and not stopped:
        batches.set_epoch(epoch)
        for xb, yb in batches:
            if control is not None and control.stop_requested:
                stopped = True
                break
            lr = optimizer.param_groups[0]["lr"]
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model(xb), yb)
            value = loss.item()
            if not math.isfinite(value):
                stopped = True
                break
            loss.backward()
            optimizer.step()
            avg = beta * avg + (1 - beta) * value
            smooth = avg / (1 - beta ** (len(lrs) + 1))
            lrs.append(lr)
            losses.append(smooth)
            best = min(best, smooth)
            if smooth > diverge * best and len(lrs) > 10:
                stopped = True
                break
            for group in optimizer.param_groups:
                group["lr"] = lr * factor
            if len(lrs) >= steps:
                break
        epoch += 1
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    return LRFindResult(lrs, losses, suggest_lr(np.asarray(lrs), np.asarray(losses)), stopped, trainable)
