"""The workloads of ``bench_peers.py``, defined once so that every contender trains the same thing.

Each workload is a lepton_nb recipe; the model, its initial weights, the dropout generator, the optimizer, the
batches (order and augmentation) and the loss are built here exactly as lepton_nb's Trainer builds them
(``lnb.build_model(..., seed=train.seed)``, ``seed_dropout``, ``build_optimizer``, ``bundle.batches(train=True,
seed=train.seed)`` with ``set_epoch``). The bare loops and the peers (livelossplot, fastai, trainplot, ignite)
wrap these objects, the lepton_nb contenders get the recipe itself: the same arithmetic everywhere, so the
final test accuracies agree (to the last digit when the float operations run in the same order).

Timed work for every contender: build the model and optimizer, train ``epochs`` epochs over the train split,
evaluate the test split once. Loading the data (the ``DataBundle``) is done before timing.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

import lepton_nb as lnb
from lepton_nb.models import seed_dropout
from lepton_nb.training.optim import build_optimizer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"  # holds MNIST/raw (the real MNIST test split, 10,000 images)
WORKLOADS = ("mnist_cnn", "mnist_mlp", "digits_cnn")
# every contender: constant learning rate (no scheduler), no validation split, attribution probes off
COMMON = {"train.scheduler": "none", "interpret.enabled": False, "data.val_fraction": 0.0}


def recipe(name: str, epochs: int = 3, quick: bool = False, data: Path | str = DATA) -> lnb.Recipe:
    """The workload's recipe: MNIST-10k 8,000 train / 2,000 test, or the bundled 8x8 digits."""
    if name in ("mnist_cnn", "mnist_mlp"):
        r = lnb.Recipe.preset("mnist").updated({
            "data.root": str(data), "data.download": False, "data.official_split": "test",
            "data.test_fraction": 0.2, "data.seed": 0, "data.limit": 3000 if quick else 0})
        if name == "mnist_mlp":
            r = r.updated({"name": "mnist-mlp", "model.arch": "mlp", "model.hidden": 256, "model.depth": 2,
                           "model.dropout": 0.1})
    elif name == "digits_cnn":
        r = lnb.Recipe.default().updated({"data.test_fraction": 0.2, "data.limit": 0})
    else:
        raise ValueError(f"unknown workload {name!r}; allowed: {', '.join(WORKLOADS)}")
    return r.updated({**COMMON, "train.epochs": epochs})


def tta_recipe(data: Path | str = DATA, epochs: int = 4) -> lnb.Recipe:
    """Time to accuracy: the MNIST preset as a user gets it (one-cycle schedule, probes on), 8,000 / 2,000."""
    return lnb.Recipe.preset("mnist").updated({
        "data.root": str(data), "data.download": False, "data.official_split": "test",
        "data.val_fraction": 0.0, "data.test_fraction": 0.2, "data.seed": 0, "train.epochs": epochs})


def load(name: str, epochs: int = 3, quick: bool = False, data: Path | str = DATA) -> tuple[lnb.Recipe, lnb.DataBundle]:
    r = recipe(name, epochs, quick, data)
    return r, lnb.build_data(r)


class EpochBatches:
    """The Trainer's shuffled (and augmented) batches as a plain re-iterable: each pass is the next epoch."""

    def __init__(self, batches):
        self.batches, self.epoch = batches, 0

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        self.batches.set_epoch(self.epoch)
        self.epoch += 1
        return iter(self.batches)


@dataclass
class Parts:
    model: nn.Module
    optimizer: torch.optim.Optimizer
    batches: EpochBatches
    loss_fn: nn.Module
    epochs: int


def build(r: lnb.Recipe, bundle: lnb.DataBundle) -> Parts:
    """Model, optimizer, batches and loss exactly as lepton_nb's Trainer makes them for ``r``."""
    t = r.train
    model = lnb.build_model(r.model, bundle.spec(), seed=t.seed)
    seed_dropout(model, t.seed * 1_000_003 + 11)
    batches = EpochBatches(bundle.batches("train", t.batch_size, train=True, seed=t.seed))
    return Parts(model, build_optimizer(model, t), batches, nn.CrossEntropyLoss(label_smoothing=t.label_smoothing),
                 t.epochs)


def test_accuracy(model: nn.Module, bundle: lnb.DataBundle) -> float:
    return float(lnb.evaluate(model, bundle, "test", ["accuracy"]).metrics["accuracy"])


def bare_loop(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    """The bare PyTorch loop; returns the test accuracy."""
    p = build(r, bundle)
    p.model.train()
    for _ in range(p.epochs):
        for x, y in p.batches:
            p.optimizer.zero_grad(set_to_none=True)
            p.loss_fn(p.model(x), y).backward()
            p.optimizer.step()
    return test_accuracy(p.model, bundle)


def headless(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    run = lnb.train(r, data=bundle.rebind(r), progress=False, out=None, report=False)
    return float(run.metrics["accuracy"])


def session(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    """lepton_nb's background Session (the thread the Studio trains in), no views."""
    s = lnb.Session(out=None)
    assert s.start(r, data=bundle.rebind(r))
    assert s.wait(3600)
    if s.run is None:
        raise RuntimeError(f"session ended without a run: {s.message}")
    return float(s.run.metrics["accuracy"])


def livelossplot(r: lnb.Recipe, bundle: lnb.DataBundle, every: int = 25) -> float:
    """livelossplot's PlotLosses (matplotlib output) updated every ``every`` batches and at each epoch end."""
    from livelossplot import PlotLosses

    plot = PlotLosses()
    p = build(r, bundle)
    p.model.train()
    step = 0
    for _ in range(p.epochs):
        for x, y in p.batches:
            p.optimizer.zero_grad(set_to_none=True)
            loss = p.loss_fn(p.model(x), y)
            loss.backward()
            p.optimizer.step()
            step += 1
            if step % every == 0:
                plot.update({"loss": loss.item()}, current_step=step)
                plot.send()
        plot.update({"loss": loss.item()}, current_step=step)
        plot.send()
    return test_accuracy(p.model, bundle)


def trainplot(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    """trainplot's live plot, given the loss after every batch."""
    from trainplot import TrainPlot

    plot = TrainPlot()
    p = build(r, bundle)
    p.model.train()
    step = 0
    for _ in range(p.epochs):
        for x, y in p.batches:
            p.optimizer.zero_grad(set_to_none=True)
            loss = p.loss_fn(p.model(x), y)
            loss.backward()
            p.optimizer.step()
            step += 1
            plot(step=step, loss=loss.item())
    if hasattr(plot, "close"):
        plot.close()
    return test_accuracy(p.model, bundle)


def ignite(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    """pytorch-ignite: an Engine running the same update step, with its ProgressBar (tqdm) attached."""
    from ignite.engine import Engine
    from ignite.handlers import ProgressBar

    p = build(r, bundle)

    def update(engine, batch):
        p.model.train()
        x, y = batch
        p.optimizer.zero_grad(set_to_none=True)
        loss = p.loss_fn(p.model(x), y)
        loss.backward()
        p.optimizer.step()
        return loss.item()

    engine = Engine(update)
    ProgressBar().attach(engine, output_transform=lambda loss: {"loss": loss})
    engine.run(p.batches, max_epochs=p.epochs, epoch_length=len(p.batches))
    return test_accuracy(p.model, bundle)


class _FastaiLoader:
    """What fastai's Learner needs of a DataLoader around the Trainer's batches (and the test split for
    fastai's per-epoch validation, which is part of fastai's fit and its plotted curves)."""

    def __init__(self, batches, n: int):
        self.batches, self.n, self.device = batches, n, torch.device("cpu")

    def __len__(self) -> int:
        return len(self.batches)

    def __iter__(self):
        return iter(self.batches)


def fastai(r: lnb.Recipe, bundle: lnb.DataBundle) -> float:
    """fastai's Learner.fit with the same torch optimizer (OptimWrapper), ShowGraphCallback and its progress
    bars. fastai validates after every epoch: it gets the test split there (its curves need a valid loss)."""
    from functools import partial

    from fastai.callback.progress import ShowGraphCallback
    from fastai.data.core import DataLoaders
    from fastai.learner import Learner
    from fastai.optimizer import OptimWrapper

    p = build(r, bundle)
    t = r.train
    cls = type(p.optimizer)
    opt_func = partial(OptimWrapper, opt=partial(cls, betas=(t.momentum, 0.999), weight_decay=t.weight_decay))
    test = bundle.batches("test", 1024)
    dls = DataLoaders(_FastaiLoader(p.batches, len(bundle.train)), _FastaiLoader(test, len(bundle.test)),
                      device=torch.device("cpu"))
    learn = Learner(dls, p.model, loss_func=p.loss_fn, opt_func=opt_func, lr=t.lr, wd=t.weight_decay,
                    wd_bn_bias=True, cbs=[ShowGraphCallback()])
    learn.fit(p.epochs, lr=t.lr, wd=t.weight_decay)
    return test_accuracy(p.model, bundle)
