"""FGSM, PGD (L∞ and L2, random start, restarts), FGSM with random start, and random noise of the same budget.

Plain torch, written out so each step is visible to a student; the tests cross-check FGSM and PGD against
torchattacks on the same inputs (identical results). All attacks take a classifier of attack coordinates
(`UserSpaceModel`) and clean inputs ``u``, and return adversarial ``u`` inside the ε-ball and the valid
range. The model is put in eval mode while attacked and given back in the mode it had; its parameters
get no gradients.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from .space import AttackError, InputSpace, evaluating

ATTACKS = ("fgsm", "pgd", "pgd_l2", "fgsm_rs", "noise")
L2_ATTACKS = ("pgd_l2",)  # ε is the L2 norm of the change; the others bound each value (L∞)


def attack_norm(method: str) -> str:
    """The norm an attack's ε bounds: ``l2`` or ``linf``."""
    return "l2" if method in L2_ATTACKS else "linf"


def _loss_grad(model: nn.Module, u: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    u = u.detach().requires_grad_(True)
    loss = F.cross_entropy(model(u), y, reduction="sum")
    try:
        (grad,) = torch.autograd.grad(loss, u)
    except RuntimeError as exc:  # e.g. a quantized model: its int8 kernels have no backward
        raise AttackError("run", "no gradients", "allowed: a model with gradients (a quantized or exported "
                                                 f"model cannot be attacked by gradients; torch said: {exc})") from None
    return grad


def _project_l2(delta: torch.Tensor, eps: float) -> torch.Tensor:
    norms = delta.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (delta.dim() - 1)))
    return delta * torch.clamp(eps / norms, max=1.0)


def _clip(u_adv: torch.Tensor, u: torch.Tensor, lo: torch.Tensor, hi: torch.Tensor) -> torch.Tensor:
    return torch.max(torch.min(u_adv, hi), lo)


def fgsm(model: nn.Module, space: InputSpace, u: torch.Tensor, y: torch.Tensor, eps: float) -> torch.Tensor:
    """One signed-gradient step of size ε (Goodfellow et al. 2015), clamped to the valid range."""
    lo, hi = space.bounds(u)
    return _clip(u + eps * _loss_grad(model, u, y).sign(), u, lo, hi).detach()


def fgsm_rs(model: nn.Module, space: InputSpace, u: torch.Tensor, y: torch.Tensor, eps: float, alpha: float = 0.0,
            generator: torch.Generator | None = None) -> torch.Tensor:
    """FGSM from a uniform random start with step 1.25·ε (Wong, Rice & Kolter 2020, "Fast is better than free")."""
    alpha = alpha or 1.25 * eps
    lo, hi = space.bounds(u)
    delta = (torch.rand(u.shape, generator=generator, device=u.device) * 2 - 1) * eps
    start = _clip(u + delta, u, lo, hi)
    delta = (start - u + alpha * _loss_grad(model, start, y).sign()).clamp(-eps, eps)
    return _clip(u + delta, u, lo, hi).detach()


def pgd(model: nn.Module, space: InputSpace, u: torch.Tensor, y: torch.Tensor, eps: float, *, steps: int = 20,
        alpha: float = 0.0, norm: str = "linf", random_start: bool = True, restarts: int = 1,
        generator: torch.Generator | None = None) -> torch.Tensor:
    """Projected gradient descent (Madry et al. 2018): ``steps`` steps of size α (default 2.5·ε/steps),
    each projected back onto the ε-ball (L∞ or L2) and the valid range; ``restarts`` random starts keep,
    per sample, the first one that fools the model (else the last)."""
    if norm not in ("linf", "l2"):
        raise AttackError("norm", norm, "allowed: linf or l2")
    alpha = alpha or 2.5 * eps / steps
    lo, hi = space.bounds(u)
    best = u.clone()
    fooled = torch.zeros(len(u), dtype=torch.bool, device=u.device)
    for _ in range(max(1, restarts)):
        adv = u.clone()
        if random_start and eps > 0:
            noise = torch.rand(u.shape, generator=generator, device=u.device) * 2 - 1
            adv = _clip(u + (noise * eps if norm == "linf" else _project_l2(noise, eps)), u, lo, hi)
        for _ in range(steps):
            grad = _loss_grad(model, adv, y)
            if norm == "linf":
                adv = adv + alpha * grad.sign()
                delta = (adv - u).clamp(-eps, eps)
            else:
                g = grad.flatten(1).norm(dim=1).clamp_min(1e-12).view(-1, *([1] * (u.dim() - 1)))
                delta = _project_l2(adv + alpha * grad / g - u, eps)
            adv = _clip(u + delta, u, lo, hi).detach()
        if restarts <= 1:
            return adv  # one start: nothing to choose between, so no extra forward pass
        with torch.no_grad():
            now = model(adv).argmax(1) != y
        best[~fooled] = adv[~fooled]  # samples fooled by an earlier start keep that start's input
        fooled |= now
    return best.detach()


def noise(model: nn.Module, space: InputSpace, u: torch.Tensor, y: torch.Tensor, eps: float, *, draws: int = 20,
          generator: torch.Generator | None = None) -> torch.Tensor:
    """A gradient-free check: the corner of the ε-ball in ``draws`` random sign directions, keeping per
    sample the first draw that fools the model. A model 'robust' to PGD but not to this masks gradients."""
    lo, hi = space.bounds(u)
    best = u.clone()
    fooled = torch.zeros(len(u), dtype=torch.bool, device=u.device)
    with torch.no_grad():
        for _ in range(draws):
            signs = torch.randint(0, 2, u.shape, generator=generator, device=u.device).to(u.dtype) * 2 - 1
            adv = _clip(u + eps * signs, u, lo, hi)
            now = (model(adv).argmax(1) != y) & ~fooled
            best[now] = adv[now]
            fooled |= now
    return best


def run_attack(method: str, model: nn.Module, space: InputSpace, u: torch.Tensor, y: torch.Tensor, eps: float, *,
               steps: int = 20, alpha: float = 0.0, restarts: int = 1, seed: int = 0,
               batch_size: int = 512) -> torch.Tensor:
    """Any attack by name, in batches, on a model in eval mode (each of its layers gets its mode back afterwards)."""
    check_params(method, steps, restarts)
    generator = torch.Generator(device=u.device).manual_seed(seed)
    attack: Callable[..., torch.Tensor] = {
        "fgsm": lambda m, uu, yy: fgsm(m, space, uu, yy, eps),
        "fgsm_rs": lambda m, uu, yy: fgsm_rs(m, space, uu, yy, eps, alpha, generator),
        "pgd": lambda m, uu, yy: pgd(m, space, uu, yy, eps, steps=steps, alpha=alpha, restarts=restarts,
                                     generator=generator),
        "pgd_l2": lambda m, uu, yy: pgd(m, space, uu, yy, eps, steps=steps, alpha=alpha, norm="l2",
                                        restarts=restarts, generator=generator),
        "noise": lambda m, uu, yy: noise(m, space, uu, yy, eps, generator=generator),
    }[method]
    with evaluating(model):
        return torch.cat([attack(model, u[i:i + batch_size], y[i:i + batch_size])
                          for i in range(0, len(u), batch_size)]) if len(u) else u.clone()


def check_params(method: str, steps: int, restarts: int = 1) -> None:
    if method not in ATTACKS:
        raise AttackError("method", method, f"allowed: one of {', '.join(ATTACKS)}")
    for name, value in (("steps", steps), ("restarts", restarts)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise AttackError(name, value, "allowed: a whole number ≥ 1")


def default_alpha(method: str, eps: float, steps: int) -> float:
    """The step size an attack uses when α is 0 (for display)."""
    if method == "fgsm_rs":
        return 1.25 * eps
    if method == "fgsm":
        return eps
    return 2.5 * eps / steps if steps else math.nan
