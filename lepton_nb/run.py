"""A run: recipe → data → model → Trainer.fit() → test evaluation → run folder and report.

``train()`` is the blocking entry point used by the CLI, notebooks and the studio's background
session alike; the session passes its own ``control`` and ``history`` and subscribes views via
``on_trainer``.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import torch
from torch import nn

from .data import DataBundle, DataSpec, NormStats, build_data
from .distributed import DistContext, check_batch_size, evaluate_sharded, setup, teardown
from .evaluate import EvalResult, evaluate
from .finetune import initialize
from .models import build_model
from .predict import InferenceModel, Predictor, Preprocessor
from .recipe import Recipe, RecipeError
from .train.callbacks import EarlyStopping, TqdmProgress
from .train.control import Control
from .train.history import History
from .train.trainer import Trainer


@dataclass
class Run:
    """A finished (or stopped, diverged, failed) training run and everything it produced.

    ``model`` holds the final weights, or the best ones when the run diverged or stopped early.
    ``preprocessor`` turns raw inputs into model inputs (see `predict`), so a run can predict even
    after its data was released. `lepton_nb.load_run` rebuilds a Run from its folder.
    """

    recipe: Recipe
    dir: Path | None
    history: History
    model: nn.Module | None
    data: DataBundle | None
    spec: DataSpec | None
    norm: NormStats | None
    status: str
    message: str = ""
    evaluation: EvalResult | None = None
    seconds: float = 0.0
    started: str = ""
    best_epoch: int | None = None
    extras: dict[str, Any] = field(default_factory=dict)
    preprocessor: Preprocessor | None = None

    @property
    def name(self) -> str:
        return self.dir.name if self.dir is not None else self.recipe.name

    @property
    def metrics(self) -> dict[str, float]:
        """Test metrics (with ``loss``); empty when the run has no test split or never evaluated."""
        if self.evaluation is None:
            return dict(self.extras.get("test_metrics", {}))  # a run loaded from its folder
        return {"loss": self.evaluation.loss, **self.evaluation.metrics}

    @property
    def epochs_done(self) -> int:
        return len(self.history.epochs)

    def evaluate(self, split: str = "test") -> EvalResult:
        """sklearn metrics on a split (a loaded run rebuilds its data from the recipe first)."""
        if self.model is None:
            raise RuntimeError("this run's model was released; reload it with lnb.load_run(run.dir)")
        return evaluate(self.model, self.load_data(), split, self.recipe.evaluate.metrics)

    def load_data(self) -> DataBundle:
        """The run's data; rebuilt from the recipe (same seeded split) when it is not in memory."""
        if self.data is None:
            self.data = build_data(self.recipe)
        return self.data

    def predictor(self) -> Predictor:
        """This run's model as a `Predictor` of raw inputs (images, sentences, table rows)."""
        if self.model is None:
            raise RuntimeError("this run's model was released; reload it with lnb.load_run(run.dir)")
        if self.preprocessor is None:
            self.preprocessor = Preprocessor.from_bundle(self.load_data(), self.recipe.data.max_len)
        model = InferenceModel(self.model, self.norm or self.load_data().norm, self.preprocessor.spec)
        return Predictor(model.to(_device_of(self.model)), self.preprocessor, name=self.name, recipe=self.recipe,
                         data=self.data)

    def predict(self, inputs: Any) -> list[str]:
        """Class names predicted for raw inputs, e.g. uint8 images, sentences or a DataFrame of rows."""
        return self.predictor().predict(inputs)

    def predict_proba(self, inputs: Any) -> Any:
        """Class probabilities [N, classes] (numpy) for raw inputs."""
        return self.predictor().predict_proba(inputs)

    def report(self, path: str | Path | None = None) -> Path:
        """Write the self-contained HTML report (default: ``run.dir/report.html``)."""
        from .report import write_report

        if path is None:
            if self.dir is None:
                raise ValueError("report(path): this run has no folder; pass a path")
            path = self.dir / "report.html"
        return write_report(self, Path(path))

    def release(self, keep_model: bool = False) -> None:
        """Free the data (and the model unless kept): a kernel with many runs stays lean."""
        if self.data is not None:
            self.data.release()
        self.data = None
        if not keep_model:
            self.model = None

    def summary_row(self) -> dict[str, Any]:
        t = self.recipe.train
        row = {"run": self.name, "status": self.status, "source": self.recipe.data.source,
               "arch": self.recipe.model.arch, "optimizer": t.optimizer, "lr": t.lr, "batch": t.batch_size,
               "epochs": f"{self.epochs_done}/{t.epochs}", "seconds": round(self.seconds, 1)}
        row.update({k: round(v, 4) for k, v in self.metrics.items()})
        return row

    def __repr__(self) -> str:
        shown = ", ".join(f"{k}={v:.4f}" for k, v in self.metrics.items())
        return f"Run({self.name!r}, status={self.status!r}, {shown})"


def new_run_dir(out: str | Path, name: str) -> Path:
    """``out/<name>-<date>-<time>``, with a suffix when that exists already."""
    base = Path(out) / f"{name}-{datetime.now().strftime('%Y%m%d-%H%M%S')}"
    path, i = base, 1
    while path.exists():
        i += 1
        path = base.with_name(f"{base.name}-{i}")
    path.mkdir(parents=True)
    return path


def write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str), encoding="utf-8")
    tmp.replace(path)


MAX_EPOCHS_ENV = "LEPTON_NB_MAX_EPOCHS"


def as_recipe(recipe: Recipe | dict | str | Path | None) -> Recipe:
    """A validated recipe from a Recipe, a dict or a file (None: the default recipe).

    When the environment variable LEPTON_NB_MAX_EPOCHS is set (CI runs the tutorials with it),
    ``train.epochs`` is capped at its value.
    """
    if recipe is None:
        out = Recipe.default()
    elif isinstance(recipe, Recipe):
        out = recipe.check()
    elif isinstance(recipe, dict):
        out = Recipe.from_dict(recipe)
    else:
        out = Recipe.from_file(recipe)
    cap = os.environ.get(MAX_EPOCHS_ENV, "").strip()
    if cap:
        if not cap.isdigit() or int(cap) < 1:
            from .recipe import Problem

            raise RecipeError([Problem(MAX_EPOCHS_ENV, cap, "allowed: a whole number ≥ 1, or unset")])
        if out.train.epochs > int(cap):
            out = out.updated({"train.epochs": int(cap)})
    return out


def make_trainer(recipe: Recipe, data: DataBundle, *, model: nn.Module | None = None, progress: bool = False,
                 callbacks: Iterable[Any] = (), control: Control | None = None, history: History | None = None,
                 run_dir: Path | None = None, desc: str = "train", dist: DistContext | None = None) -> Trainer:
    """Model (seeded, with the recipe's initial weights and freezing) and Trainer with the recipe's callbacks;
    the one place both are assembled."""
    t = recipe.train
    torch.manual_seed(t.seed)
    if model is None:
        model = build_model(recipe.model, data.spec(), seed=t.seed)
    init_report = initialize(model, recipe.model, data.spec())
    cbs = list(callbacks)
    if recipe.interpret.enabled:
        from .interpret.probes import AttributionProbes

        cbs.append(AttributionProbes(data, recipe.interpret, recipe.interpret_method))
    if t.early_stopping.enabled:
        cbs.append(EarlyStopping(t.early_stopping))
    if progress:
        cbs.append(TqdmProgress(desc))
    trainer = Trainer(model, data, t, metrics=recipe.evaluate.metrics, history=history, callbacks=cbs,
                      run_dir=run_dir, control=control, dist=dist)
    trainer.init_report = init_report
    return trainer


def fit_bundle(recipe: Recipe, data: DataBundle, *, progress: bool = False, control: Control | None = None,
               desc: str = "train") -> tuple[nn.Module, str]:
    """Train on a prepared bundle without writing anything (cross-validation folds)."""
    trainer = make_trainer(recipe, data, progress=progress, control=control, desc=desc)
    status = trainer.fit()
    return trainer.model, status


def train(recipe: Recipe | dict | str | Path | None = None, *, progress: bool = True,
          out: str | Path | None = "runs", callbacks: Iterable[Any] = (), control: Control | None = None,
          history: History | None = None, data: DataBundle | None = None, model: nn.Module | None = None,
          resume: str | Path | None = None, report: bool = True,
          on_trainer: Callable[[Trainer], None] | None = None) -> Run:
    """Train a recipe to the end (blocking) and return the `Run`.

    ``out`` is the folder run folders go in (None: write nothing). ``resume`` continues from a
    checkpoint (a ``last.pt`` or a run folder). ``model`` replaces the recipe's architecture with
    your own ``nn.Module``. Stopping through ``control`` or Ctrl-C ends the run cleanly: it is
    evaluated and reported like any other.

    Under torchrun (several processes), it trains data-parallel (see `lepton_nb.distributed`): every
    process returns its Run, and only rank 0 writes the run folder and shows progress.
    """
    recipe = as_recipe(recipe)
    ctx = setup(recipe.train.device)
    try:
        run = _train(recipe, ctx, progress=progress, out=out, callbacks=callbacks, control=control,
                     history=history, data=data, model=model, resume=resume, report=report, on_trainer=on_trainer)
    except BaseException:
        teardown(ctx, wait=False)  # no barrier: a failed process must exit so that torchrun stops the others
        raise
    teardown(ctx)
    return run


def _train(recipe: Recipe, ctx: DistContext | None, *, progress: bool, out: str | Path | None,
           callbacks: Iterable[Any], control: Control | None, history: History | None, data: DataBundle | None,
           model: nn.Module | None, resume: str | Path | None, report: bool,
           on_trainer: Callable[[Trainer], None] | None) -> Run:
    is_main = ctx is None or ctx.is_main
    if ctx is not None:
        check_batch_size(recipe, ctx.world_size)
    started = datetime.now().isoformat(timespec="seconds")
    t0 = time.perf_counter()
    run_dir = new_run_dir(out, recipe.name) if out is not None and is_main else None
    if run_dir is not None:
        recipe.to_file(run_dir / "recipe.json")
    data = data if data is not None else build_data(recipe)
    if run_dir is not None:
        write_json(run_dir / "data.json", data_summary(data))
    trainer = make_trainer(recipe, data, model=model, progress=progress and is_main, callbacks=callbacks,
                           control=control, history=history, run_dir=run_dir, dist=ctx)
    trainer.history.meta.update({"recipe": recipe.to_dict(), "started": started})
    if trainer.init_report is not None:
        trainer.history.meta["init"] = trainer.init_report.to_dict()
    if ctx is not None:
        trainer.history.meta["distributed"] = {"world_size": ctx.world_size, "backend": ctx.backend}
    if resume is not None:
        path = Path(resume)
        trainer.resume_from(path / "checkpoints" / "last.pt" if path.is_dir() else path)
    if on_trainer is not None:
        on_trainer(trainer)
    status = trainer.fit()
    test_eval = None
    if len(data.test):
        test_eval = (evaluate_sharded(trainer.model, data, "test", recipe.evaluate.metrics, ctx) if ctx is not None
                     else evaluate(trainer.model, data, "test", recipe.evaluate.metrics))
    run = Run(recipe, run_dir, trainer.history, trainer.model, data, data.spec(), data.norm, status,
              trainer.message, test_eval, time.perf_counter() - t0, started, trainer.best_epoch,
              preprocessor=Preprocessor.from_bundle(data, recipe.data.max_len))
    if trainer.init_report is not None:
        run.extras["init"] = trainer.init_report.to_dict()
    if ctx is not None:
        run.extras["distributed"] = ctx.to_dict()
    if run_dir is not None:
        write_json(run_dir / "metrics.json", {"status": status, "message": trainer.message,
                                              "seconds": run.seconds, "best_epoch": trainer.best_epoch,
                                              "world_size": ctx.world_size if ctx is not None else 1,
                                              "test": test_eval.to_dict() if test_eval else None})
        if report:
            run.report()
    return run


def data_summary(data: DataBundle) -> dict[str, Any]:
    """What the run folder records about its data: spec, sizes, normalization, cleaning, vocabulary."""
    out = {"spec": data.spec().to_dict(), "sizes": data.sizes(), "normalization": data.norm.to_dict(),
           "cleaning": data.cleaning.to_dict(), "augment": data.augment_ops}
    if data.vocab is not None:
        out["vocab"] = data.vocab.words
    if data.encoder is not None:
        out["encoder"] = data.encoder.to_dict()
    return out


def _device_of(model: nn.Module) -> torch.device:
    for p in model.parameters():
        return p.device
    return torch.device("cpu")
