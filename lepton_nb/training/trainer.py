"""The training loop: pure torch, emits typed events, obeys cooperative stop/pause between batches.

How the loop runs on one process or several is the `strategy`'s business (`SingleProcess`, `DataParallel`);
where checkpoints and the history go is the `store`'s (a run folder). Every random draw comes from the run's
own generators: batches and augmentation from (seed, epoch), dropout from a generator whose state is
checkpointed, so a resumed run continues bit-exactly and nothing else in the process changes its weights.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Iterable, Sequence
from typing import Any

import torch
from torch import nn

from ..data.bundle import DataBundle
from ..data.steps import BatchStep
from ..models import seed_dropout
from ..recipe import TrainSection
from .changes import apply_changes
from .events import (
    BatchEnd,
    BatchStart,
    Changed,
    Diverged,
    EpochEnd,
    EpochStart,
    ErrorEvent,
    EvalEnd,
    EventBus,
    FitEnd,
    FitStart,
    Paused,
    Resumed,
    Stopped,
)
from .observers import Observers
from .optim import build_optimizer, build_scheduler, monitor_mode, resolve_device, resolve_precision
from .state import TrainerState
from .store import RunStore
from .strategy import SingleProcess


class Trainer(TrainerState):
    """Fits a model on a `DataBundle` following a `TrainSection`.

    ``observers`` carries the history it fills, its callbacks and the control that stops or pauses it from
    another thread; watch it through ``trainer.events`` (typed events) and ``trainer.history``.
    ``strategy`` runs the loop on one process (default) or data-parallel (`strategy.DataParallel`);
    ``model`` stays the unwrapped module (what is checkpointed and evaluated). ``store`` (a run
    folder) keeps checkpoints and the history; without one nothing is written. ``steps`` change each
    training batch before the forward pass, in order (`lepton_nb.data.steps.BatchStep`: adversarial
    examples, masked tokens); targets of shape [B, L] (-100 = none) are scored per token.
    """

    def __init__(self, model: nn.Module, data: DataBundle, cfg: TrainSection, *,
                 metrics: Iterable[str] = ("accuracy",), observers: Observers | None = None,
                 store: RunStore | None = None, strategy: SingleProcess | None = None,
                 steps: Sequence[BatchStep] = ()):
        data.check_finite()  # a NaN input would reach batch-norm statistics before the loss shows it
        observers = observers if observers is not None else Observers()
        self.cfg = cfg
        self.data = data
        self.strategy = strategy if strategy is not None else SingleProcess()
        self.device = self.strategy.device or resolve_device(cfg.device)
        # what the forward pass of training runs (the DDP wrapper when data-parallel) and what is kept
        self.model, self.train_model = self.strategy.wrap(model.to(self.device))
        self.dropout_rng = seed_dropout(self.model, cfg.seed * 1_000_003 + 11, self.device)
        self.history = observers.history
        self.control = observers.control
        self.events = EventBus()
        self.metric_names = list(metrics)
        self.store = store
        self.amp_dtype, use_scaler = resolve_precision(cfg.mixed_precision, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler) if use_scaler else None
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.train_batches = self.strategy.batches(data, cfg.batch_size, cfg.seed, self.device)
        self.steps_per_epoch = math.ceil(len(self.train_batches) / cfg.grad_accumulation)
        self.optimizer = build_optimizer(self.model, cfg)
        self.scheduler = build_scheduler(self.optimizer, cfg, self.steps_per_epoch)
        self.total_steps = cfg.epochs * self.steps_per_epoch
        es = cfg.early_stopping
        self.monitor = es.monitor if len(data.val) or not es.monitor.startswith("val_") else "train_loss"
        self.mode = monitor_mode(self.monitor, es.mode)
        self.epoch = 0  # completed epochs
        self.global_step = 0  # batches seen
        self.best_value: float | None = None
        self.best_epoch: int | None = None
        self._best_state: dict[str, torch.Tensor] | None = None
        self.status = "idle"
        self.message = ""
        self.error: BaseException | None = None
        self.traceback = ""
        self.steps = list(steps)
        self.callbacks = list(observers.callbacks)
        for cb in self.callbacks:
            cb.attach(self)

    def restore_best(self) -> bool:
        """Load the best weights seen (from memory or the store's best checkpoint); False when there are none."""
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            return True
        best = self.store.load_checkpoint("best", self.device) if self.store is not None else None
        if best is not None:
            self.model.load_state_dict(best["model"])
            return True
        return False

    # ---- the loop ----------------------------------------------------------------------------

    def fit(self) -> str:
        """Train until the configured epochs are done or the run stops; returns the final status."""
        start = time.perf_counter()
        self.status, self.message = "running", ""
        emit = self.events.emit
        try:
            emit(FitStart(self.cfg.epochs, self.epoch, len(self.train_batches), len(self.data.train)))
            while self.epoch < self.cfg.epochs and self.status == "running":
                self._run_epoch()
            if self.status == "running":
                self.status = "completed"
        except KeyboardInterrupt:
            self.status, self.message = "stopped", "interrupted (Ctrl-C / kernel interrupt)"
            emit(Stopped(self.epoch, self.global_step, self.message))
        except Exception as exc:
            self.status, self.error = "error", exc
            self.message = f"{type(exc).__name__}: {exc}"
            self.traceback = traceback.format_exc()
            self._save_history()
            emit(ErrorEvent(self.message, self.traceback))
            emit(FitEnd("error", self.epoch, time.perf_counter() - start, self.message))
            raise
        if self.status in ("diverged", "early_stopped"):
            self.restore_best()
        self._save_history()
        emit(FitEnd(self.status, self.epoch, time.perf_counter() - start, self.message))
        return self.status

    def _handle_control(self) -> bool:
        """Pause or stop between batches; True when the loop must stop."""
        ctl = self.control
        self._pause_here()
        if ctl.stop_requested:
            early = ctl.reason == "early_stopping"
            self.status = "early_stopped" if early else "stopped"
            self.message = ctl.reason
            self.events.emit(Stopped(self.epoch, self.global_step, ctl.reason))
            return True
        return False

    def _pause_here(self) -> float:
        """Wait while paused (data-parallel: only this process pauses; the others wait at the next
        all-reduce). Returns the seconds spent paused."""
        ctl = self.control
        if not ctl.paused or ctl.stop_requested:
            return 0.0
        p0 = time.perf_counter()
        self.status = "paused"
        self.events.emit(Paused(self.epoch, self.global_step))
        ctl.wait_while_paused()
        self.status = "running"
        if not ctl.stop_requested:
            if changes := ctl.take_changes():  # what the user changed while paused applies from the next batch
                self.events.emit(Changed(self.epoch, self.global_step, apply_changes(self, changes)))
            self.events.emit(Resumed(self.epoch, self.global_step))
        return time.perf_counter() - p0

    def _stop_at_epoch_start(self) -> bool:
        """Stop before an epoch when asked (on every process when any was asked)."""
        if self.strategy.world_size == 1:
            return self.control.pending and self._handle_control()
        self._pause_here()
        if self.strategy.agree_stop(self.control.stop_requested):
            if not self.control.stop_requested:
                self.control.stop("stopped on another process")
            return self._handle_control()
        return False

    def _run_epoch(self) -> None:
        cfg, opt, bus, strategy = self.cfg, self.optimizer, self.events, self.strategy
        model = self.train_model
        epoch = self.epoch
        if self._stop_at_epoch_start():
            return
        bus.emit(EpochStart(epoch))
        model.train()
        batches = self.train_batches
        batches.set_epoch(epoch)
        accum = cfg.grad_accumulation
        n_batches = len(batches)
        many = strategy.world_size > 1
        want_start, want_end = bus.wants(BatchStart), bus.wants(BatchEnd)
        log = self.history.log_many
        loss_sum, seen = 0.0, 0
        correct: Any = torch.zeros((), dtype=torch.long, device=self.device)
        t0 = time.perf_counter()
        paused_for = 0.0
        opt.zero_grad(set_to_none=True)
        steps = self.steps
        for batch_step in steps:
            batch_step.start_epoch(epoch, self.device)
        for step, (xb, yb) in enumerate(batches):
            if self.control.pending:
                p0 = time.perf_counter()
                if many:
                    self._pause_here()  # stops are agreed after the batch (batch_stats)
                elif self._handle_control():
                    return
                paused_for += time.perf_counter() - p0
            if want_start:
                bus.emit(BatchStart(epoch, step, self.global_step))
            for batch_step in steps:
                xb, yb = batch_step(self.model, xb, yb, self.global_step)
            boundary = (step + 1) % accum == 0 or step == n_batches - 1
            with strategy.no_sync(model, boundary):
                if self.amp_dtype is not None:
                    with torch.autocast(self.device.type, dtype=self.amp_dtype):
                        out = model(xb)
                        loss = self.loss_fn(out, yb)
                else:
                    out = model(xb)
                    loss = self.loss_fn(out, yb)
                stats = strategy.batch_stats(loss, out, yb, self.control.stop_requested, accum)
                if not math.isfinite(stats.loss):
                    self._diverge(stats.loss, step)
                    return
                if self.scaler is not None:
                    self.scaler.scale(stats.backward).backward()
                else:
                    stats.backward.backward()
            lr = opt.param_groups[0]["lr"]  # the rate this batch's step uses
            if boundary:
                self._optimizer_step()
            correct += stats.correct
            loss_sum += stats.loss * stats.size
            seen += stats.size
            self.global_step += 1
            log(self.global_step, {"batch_loss": stats.loss, "lr": lr})
            if want_end:
                bus.emit(BatchEnd(epoch, step, self.global_step, stats.loss, lr, stats.size))
            if stats.stop_all:
                if not self.control.stop_requested:
                    self.control.stop("stopped on another process")
                self._handle_control()
                return
        seconds = time.perf_counter() - t0 - paused_for
        train_metrics = {"train_loss": loss_sum / max(1, seen), "train_accuracy": float(correct) / max(1, seen),
                         "samples_per_s": seen / max(seconds, 1e-9)}
        for batch_step in steps:
            train_metrics.update(batch_step.train_metrics())
        self._end_epoch(epoch, train_metrics, seconds)

    def _optimizer_step(self) -> None:
        cfg, opt = self.cfg, self.optimizer
        if cfg.grad_clip > 0:
            if self.scaler is not None:
                self.scaler.unscale_(opt)
            torch.nn.utils.clip_grad_norm_(self.model.parameters(), cfg.grad_clip)
        if self.scaler is not None:
            self.scaler.step(opt)
            self.scaler.update()
        else:
            opt.step()
        opt.zero_grad(set_to_none=True)
        if self.scheduler is not None and self.scheduler.last_epoch < self.total_steps:
            self.scheduler.step()

    def _diverge(self, loss_val: float, step: int) -> None:
        lr = self.optimizer.param_groups[0]["lr"]
        self.status = "diverged"
        self.message = (f"the loss became {loss_val} at epoch {self.epoch + 1}, batch {step + 1} "
                        f"(learning rate {lr:.3g}): lower train.lr, or set train.grad_clip (e.g. 1.0)")
        self.events.emit(Diverged(self.epoch, self.global_step, self.message))

    def validate(self, split: str = "val") -> dict[str, float]:
        """Loss and metrics on a split (prefixed ``val_``), or {} when the split is empty."""
        if not len(self.data.splits[split]):
            return {}
        result = self.strategy.evaluate(self.model, self.data, split, self.metric_names)
        return {f"{split}_loss": result.loss, **{f"{split}_{k}": v for k, v in result.metrics.items()}}

    def _end_epoch(self, epoch: int, train_metrics: dict[str, float], seconds: float) -> None:
        self.strategy.end_epoch(self.model)  # one set of batch-norm statistics for every process
        val_metrics = self.validate("val")
        if val_metrics:
            for batch_step in self.steps:
                val_metrics.update(batch_step.val_metrics(self.model, self.device))
        if val_metrics:
            self.events.emit(EvalEnd(epoch, "val", val_metrics))
        metrics = {**train_metrics, **val_metrics}
        self.epoch = epoch + 1
        record = {"epoch": epoch, "step": self.global_step, "seconds": seconds, **metrics}
        self.history.log_many(self.global_step, {**metrics, "epoch": float(self.epoch)})
        self.history.log_epoch(record)
        improved = self._track_best(metrics.get(self.monitor))
        self.events.emit(EpochEnd(epoch, metrics, seconds))
        self._save_checkpoints(improved)  # after the callbacks saw the epoch: their state is current

    def _track_best(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        better = (self.best_value is None or
                  (value < self.best_value if self.mode == "min" else value > self.best_value))
        if better:
            self.best_value, self.best_epoch = value, self.epoch
            if self.store is None or not self.cfg.checkpoint:
                self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        return better

    def _save_checkpoints(self, improved: bool) -> None:
        if self.store is None or not self.cfg.checkpoint:
            return
        state = self.state_dict()
        if improved:  # best before last: last.pt commits the epoch (a run folder's write order)
            self.store.save_checkpoint("best", {"model": state["model"], "epoch": self.epoch,
                                                "monitor": self.monitor, "value": self.best_value})
        self.store.save_checkpoint("last", state)
        self._save_history()

    def _save_history(self) -> None:
        if self.store is not None:
            self.store.save_history(self.history)
