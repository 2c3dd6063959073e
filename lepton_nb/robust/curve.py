"""`attack` and `robustness`: adversarial examples of a trained run, and accuracy-vs-ε curves with sanity checks."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol, runtime_checkable

import numpy as np
import torch
from torch import nn

from ..data.bundle import DataBundle
from .attacks import ATTACKS, attack_norm, check_params, run_attack
from .checks import Check, run_checks
from .space import AttackError, InputSpace, UserSpaceModel, evaluating


@runtime_checkable
class Attackable(Protocol):
    """A trained run (a `Run` or a `Predictor`): its classifier of normalized inputs, and its data."""

    def model_space(self, data: DataBundle | None = None) -> tuple[nn.Module, DataBundle]: ...


@dataclass
class AttackResult:
    """Adversarial examples of some samples, in user units (pixels in [0, 1] or table values)."""

    method: str
    eps: float
    indices: np.ndarray
    labels: torch.Tensor
    inputs: torch.Tensor
    adversarial: torch.Tensor
    pred_before: torch.Tensor
    pred_after: torch.Tensor
    conf_before: torch.Tensor
    conf_after: torch.Tensor
    classes: list[str]
    unit_name: str

    @property
    def perturbation(self) -> torch.Tensor:
        return self.adversarial - self.inputs

    @property
    def accuracy_before(self) -> float:
        return float((self.pred_before == self.labels).float().mean()) if len(self.labels) else float("nan")

    @property
    def accuracy_after(self) -> float:
        return float((self.pred_after == self.labels).float().mean()) if len(self.labels) else float("nan")

    @property
    def success_rate(self) -> float:
        """Of the samples the model got right, the share the attack made it get wrong."""
        right = self.pred_before == self.labels
        return float((self.pred_after[right] != self.labels[right]).float().mean()) if right.any() else 0.0

    def __len__(self) -> int:
        return len(self.labels)


@dataclass
class RobustnessCurve:
    """Accuracy at each ε for each attack, on a fixed subset of one run's split, with the sanity checks."""

    run: str
    split: str
    n: int
    eps: list[float]
    accuracy: dict[str, list[float]]
    steps: int
    unit_name: str
    seconds: float
    checks: list[Check] = field(default_factory=list)

    @property
    def warnings(self) -> list[Check]:
        return [c for c in self.checks if not c.passed]

    def table(self) -> list[dict[str, Any]]:
        return [{"run": self.run, "eps": e, **{m: acc[i] for m, acc in self.accuracy.items()}}
                for i, e in enumerate(self.eps)]

    def to_dict(self) -> dict[str, Any]:
        return {"run": self.run, "split": self.split, "n": self.n, "eps": self.eps, "accuracy": self.accuracy,
                "steps": self.steps, "unit_name": self.unit_name, "seconds": self.seconds,
                "checks": [c.to_dict() for c in self.checks]}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> RobustnessCurve:
        return cls(**{**d, "checks": [Check(**c) for c in d.get("checks", [])]})


def _name(run: Any) -> str:
    return str(getattr(run, "name", type(run).__name__))


def _model_and_space(run: Attackable) -> tuple[UserSpaceModel, DataBundle, InputSpace]:
    if not isinstance(run, Attackable):
        raise AttackError("run", type(run).__name__, "allowed: a Run or a Predictor (lnb.train, lnb.load_run)")
    model, data = run.model_space()
    space = InputSpace.of(data)
    return UserSpaceModel(model, space), data, space


def _subset(data: DataBundle, split: str, n: int | None, indices: Sequence[int] | None, seed: int) -> np.ndarray:
    if split not in data.splits:
        raise AttackError("split", split, f"allowed: one of {', '.join(data.splits)}")
    size = len(data.splits[split])
    if indices is not None:
        idx = np.asarray(list(indices), dtype=np.int64)
        bad = idx[(idx < 0) | (idx >= size)]
        if len(bad):
            raise AttackError("indices", int(bad[0]),
                              f"allowed: sample numbers from 0 to {size - 1} of the {split} split")
        return idx
    if n is not None and (not isinstance(n, int) or n < 1):
        raise AttackError("n", n, "allowed: a whole number ≥ 1")
    if size == 0:
        raise AttackError("split", split, "allowed: a split with samples")
    order = np.random.default_rng(seed).permutation(size)
    return np.sort(order[: n or size])


def _device(model: nn.Module) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def _predict(model: nn.Module, u: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    with evaluating(model), torch.no_grad():
        probs = torch.cat([torch.softmax(model(u[i:i + 1024]).float(), 1) for i in range(0, len(u), 1024)])
    conf, pred = probs.max(1)
    return pred, conf


def attack(run: Attackable, method: str = "pgd", eps: float = 0.1, *, split: str = "test",
           indices: Sequence[int] | None = None, n: int | None = 16, steps: int = 20, alpha: float = 0.0,
           restarts: int = 1, seed: int = 0) -> AttackResult:
    """Adversarial examples of a run's samples: ε in user units (pixels in [0, 1]; for tables, standard
    deviations of each column), applied before the run's normalization and clamped to the valid range."""
    net, data, space = _model_and_space(run)
    check_params(method, steps, restarts)
    eps = space.check_eps(eps, norm=attack_norm(method), method=method)
    idx = _subset(data, split, n, indices, seed)
    device = _device(net)
    u = space.to_u(data.raw(split, idx).float()).to(device)
    y = data.labels(split)[torch.as_tensor(idx)].to(device)
    adv = run_attack(method, net, space, u, y, eps, steps=steps, alpha=alpha, restarts=restarts, seed=seed)
    before, conf_b = _predict(net, u)
    after, conf_a = _predict(net, adv)
    return AttackResult(method, eps, idx, y.cpu(), space.to_user(u).cpu(), space.to_user(adv).cpu(), before.cpu(),
                        after.cpu(), conf_b.cpu(), conf_a.cpu(), list(data.classes), space.unit_name)


def robustness_curve(run: Attackable, eps: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3),
                     *, methods: Sequence[str] = ("fgsm", "pgd", "noise"), split: str = "test", n: int | None = 1000,
                     steps: int = 20, seed: int = 0, checks: bool = True) -> RobustnessCurve:
    """Accuracy at each ε for each attack on a fixed, seeded subset of one run's split, with the sanity checks
    (two extra PGD runs: twice the steps at the middle ε, and an ε covering the whole valid range)."""
    net, data, space = _model_and_space(run)
    for m in methods:
        check_params(m, steps)
    if not methods:
        raise AttackError("methods", list(methods), f"allowed: one or more of {', '.join(ATTACKS)}")
    eps_list = sorted({space.check_eps(e, norm=attack_norm(m), method=m) for m in methods for e in eps})
    if not eps_list:
        raise AttackError("eps", list(eps), "allowed: at least one ε")
    idx = _subset(data, split, n, None, seed)
    device = _device(net)
    u = space.to_u(data.raw(split, idx).float()).to(device)
    y = data.labels(split)[torch.as_tensor(idx)].to(device)
    t0 = time.perf_counter()

    def accuracy(method: str, e: float, k: int = steps) -> float:
        if e == 0:
            adv = u
        else:
            adv = run_attack(method, net, space, u, y, e, steps=k, seed=seed)
        return float((_predict(net, adv)[0] == y).float().mean())

    acc = {m: [accuracy(m, e) for e in eps_list] for m in methods}
    more_steps = unbounded = None
    if checks and "pgd" in methods:
        middle = [e for e in eps_list if e > 0]
        if middle:
            e = middle[len(middle) // 2]
            more_steps = (e, acc["pgd"][eps_list.index(e)], accuracy("pgd", e, 2 * steps))
        unbounded = accuracy("pgd", space.widest())
    seconds = time.perf_counter() - t0
    found = run_checks(eps_list, acc, len(idx), len(data.classes), unbounded, more_steps) if checks else []
    return RobustnessCurve(_name(run), split, len(idx), eps_list, acc, steps, space.unit_name, seconds, found)


__all__ = ["ATTACKS", "AttackResult", "Attackable", "RobustnessCurve", "attack", "robustness_curve"]


def whole_curve(curve: Any) -> RobustnessCurve | None:
    """The robustness curve stored as ``curve``, or None when it is damaged or incomplete."""
    try:
        c = RobustnessCurve.from_dict(curve)
        c.table()
        return c if all(len(acc) == len(c.eps) for acc in c.accuracy.values()) else None
    except (TypeError, KeyError, ValueError, IndexError, AttributeError):
        return None
