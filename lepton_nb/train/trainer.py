"""The training loop: pure torch, emits typed events, obeys cooperative stop/pause between batches."""

from __future__ import annotations

import contextlib
import math
import time
import traceback
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import torch
from torch import nn

from ..data.bundle import DataBundle
from ..errors import LeptonError
from ..evaluate import evaluate
from ..recipe import TrainSection
from .checkpoint import load_checkpoint, save_checkpoint
from .control import Control
from .events import (
    BatchEnd,
    BatchStart,
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
from .history import History

if TYPE_CHECKING:
    from ..distributed import DistContext

TERMINAL = ("completed", "stopped", "early_stopped", "diverged", "error")


class DeviceError(LeptonError):
    """A device or precision that this machine does not have."""


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
        raise LeptonError("model: no trainable parameters (every layer is frozen); unfreeze some layers")
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


class Trainer:
    """Fits a model on a `DataBundle` following a `TrainSection`.

    Drive it from another thread with ``trainer.control`` (stop/pause/resume); observe it
    through ``trainer.events`` (typed events) and ``trainer.history`` (every metric).

    With ``dist`` (a `lepton_nb.distributed.DistContext`), the model trains wrapped in
    DistributedDataParallel on this process's share of every batch; see `lepton_nb.distributed`.
    ``model`` stays the unwrapped module (what is checkpointed and evaluated).
    """

    def __init__(self, model: nn.Module, data: DataBundle, cfg: TrainSection, *,
                 metrics: Iterable[str] = ("accuracy",), history: History | None = None,
                 callbacks: Iterable[Any] = (), run_dir: str | Path | None = None,
                 control: Control | None = None, device: str | torch.device | None = None,
                 dist: DistContext | None = None):
        self.cfg = cfg
        self.data = data
        self.dist = dist
        if dist is not None:
            device = dist.device
        self.device = torch.device(device) if device is not None else resolve_device(cfg.device)
        self.model = model.to(self.device)
        self.train_model = self.model  # what the forward pass of training runs: the DDP wrapper when distributed
        if dist is not None:
            from ..distributed import wrap_model

            self.model, self.train_model = wrap_model(self.model, dist)
        self.history = history if history is not None else History()
        self.control = control if control is not None else Control()
        self.events = EventBus()
        self.metric_names = list(metrics)
        self.run_dir = Path(run_dir) if run_dir is not None else None
        self.amp_dtype, use_scaler = resolve_precision(cfg.mixed_precision, self.device)
        self.scaler = torch.amp.GradScaler(self.device.type, enabled=use_scaler) if use_scaler else None
        self.loss_fn = nn.CrossEntropyLoss(label_smoothing=cfg.label_smoothing)
        self.train_batches = data.batches("train", cfg.batch_size, train=True, seed=cfg.seed, device=self.device,
                                          rank=dist.rank if dist else 0, world_size=dist.world_size if dist else 1)
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
        self.init_report: Any = None  # set by make_trainer when the recipe fine-tunes (lepton_nb.finetune)
        for cb in callbacks:
            cb.attach(self)

    # ---- state -------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, Any]:
        """Everything needed to resume, in types ``torch.load(weights_only=True)`` accepts."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else {},
            "scaler": self.scaler.state_dict() if self.scaler is not None else {},
            "epoch": self.epoch,
            "global_step": self.global_step,
            "best_value": self.best_value,
            "best_epoch": self.best_epoch,
            "monitor": self.monitor,
            "torch_rng": torch.get_rng_state(),
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        if self.scheduler is not None and state.get("scheduler"):
            self.scheduler.load_state_dict(state["scheduler"])
        if self.scaler is not None and state.get("scaler"):
            self.scaler.load_state_dict(state["scaler"])
        self.epoch, self.global_step = int(state["epoch"]), int(state["global_step"])
        self.best_value, self.best_epoch = state.get("best_value"), state.get("best_epoch")
        torch.set_rng_state(state["torch_rng"])
        restored = History.from_dict(state.get("history", {}))
        restored.truncate_epochs(self.epoch)
        self.history.__dict__.update({k: v for k, v in restored.__dict__.items() if k != "_lock"})

    def resume_from(self, path: str | Path) -> None:
        """Continue from a checkpoint (typically ``run_dir/checkpoints/last.pt``)."""
        self.load_state_dict(load_checkpoint(path, map_location=self.device))

    def restore_best(self) -> bool:
        """Load the best weights seen (from memory or best.pt); False when there are none."""
        if self._best_state is not None:
            self.model.load_state_dict(self._best_state)
            return True
        best = self.run_dir / "checkpoints" / "best.pt" if self.run_dir else None
        if best is not None and best.is_file():
            self.model.load_state_dict(load_checkpoint(best, self.device)["model"])
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
        """Wait while paused (distributed: only this process pauses; the others wait at the next
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
            self.events.emit(Resumed(self.epoch, self.global_step))
        return time.perf_counter() - p0

    def _stop_agreed(self) -> bool:
        """Distributed: stop on every process when any was asked to (keeps the processes in step)."""
        from ..distributed import any_process

        assert self.dist is not None
        self._pause_here()
        if any_process(self.control.stop_requested, self.dist):
            if not self.control.stop_requested:
                self.control.stop("stopped on another process")
            return self._handle_control()
        return False

    def _run_epoch(self) -> None:
        cfg, opt, bus, ddp = self.cfg, self.optimizer, self.events, self.dist
        model = self.train_model
        epoch = self.epoch
        if ddp is not None:
            if self._stop_agreed():
                return
        elif self.control.pending and self._handle_control():
            return
        bus.emit(EpochStart(epoch))
        model.train()
        batches = self.train_batches
        batches.set_epoch(epoch)
        accum = cfg.grad_accumulation
        n_batches = len(batches)
        autocast = (torch.autocast(self.device.type, dtype=self.amp_dtype) if self.amp_dtype is not None
                    else contextlib.nullcontext())
        want_start, want_end = bus.wants(BatchStart), bus.wants(BatchEnd)
        log = self.history.log_many
        loss_sum, seen = 0.0, 0
        correct = torch.zeros((), dtype=torch.long, device=self.device)
        t0 = time.perf_counter()
        paused_for = 0.0
        opt.zero_grad(set_to_none=True)
        for step, (xb, yb) in enumerate(batches):
            if self.control.pending:
                if ddp is not None:
                    paused_for += self._pause_here()  # stops are agreed after the batch, below
                else:
                    p0 = time.perf_counter()
                    if self._handle_control():
                        return
                    paused_for += time.perf_counter() - p0
            if want_start:
                bus.emit(BatchStart(epoch, step, self.global_step))
            boundary = (step + 1) % accum == 0 or step == n_batches - 1
            no_sync = ddp is not None and not boundary and hasattr(model, "no_sync")
            stop_all = False
            with model.no_sync() if no_sync else contextlib.nullcontext():
                with autocast:
                    out = model(xb)
                    loss = self.loss_fn(out, yb)
                if ddp is None:
                    loss_val, size = loss.item(), len(yb)
                    scaled = loss / accum if accum > 1 else loss
                else:
                    # one all-reduce: the global batch's loss and accuracy, and whether any process stops
                    from ..distributed import reduce_sum

                    batch_correct = int((out.detach().argmax(1) == yb).sum())
                    total, count, right, stops = reduce_sum(
                        [loss.item() * len(yb), float(len(yb)), float(batch_correct),
                         float(self.control.stop_requested)], ddp)
                    loss_val, size, stop_all = total / count, int(count), stops > 0
                    # DDP averages gradients over processes: scale so the result is the global mean's gradient
                    scaled = loss * (len(yb) * ddp.world_size / count / accum)
                    correct += int(right)
                if not math.isfinite(loss_val):
                    self._diverge(loss_val, step)
                    return
                if self.scaler is not None:
                    self.scaler.scale(scaled).backward()
                else:
                    scaled.backward()
            lr = opt.param_groups[0]["lr"]  # the rate this batch's step uses
            if boundary:
                self._optimizer_step()
            if ddp is None:
                correct += (out.detach().argmax(1) == yb).sum()
            loss_sum += loss_val * size
            seen += size
            self.global_step += 1
            log(self.global_step, {"train/loss": loss_val, "lr": lr})
            if want_end:
                bus.emit(BatchEnd(epoch, step, self.global_step, loss_val, lr, size))
            if stop_all:
                if not self.control.stop_requested:
                    self.control.stop("stopped on another process")
                self._handle_control()
                return
        seconds = time.perf_counter() - t0 - paused_for
        train_metrics = {"train_loss": loss_sum / max(1, seen), "train_accuracy": float(correct) / max(1, seen),
                         "samples_per_s": seen / max(seconds, 1e-9)}
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
        if self.dist is not None:
            from ..distributed import evaluate_sharded

            result = evaluate_sharded(self.model, self.data, split, self.metric_names, self.dist)
        else:
            result = evaluate(self.model, self.data, split, self.metric_names)
        return {f"{split}_loss": result.loss, **{f"{split}_{k}": v for k, v in result.metrics.items()}}

    def _end_epoch(self, epoch: int, train_metrics: dict[str, float], seconds: float) -> None:
        if self.dist is not None:
            from ..distributed import average_buffers

            average_buffers(self.model, self.dist)  # one set of batch-norm statistics for every process
        val_metrics = self.validate("val")
        if val_metrics:
            self.events.emit(EvalEnd(epoch, "val", val_metrics))
        metrics = {**train_metrics, **val_metrics}
        self.epoch = epoch + 1
        record = {"epoch": epoch, "step": self.global_step, "seconds": seconds, **metrics}
        self.history.log_many(self.global_step, {**metrics, "epoch": float(self.epoch)})
        self.history.log_epoch(record)
        improved = self._track_best(metrics.get(self.monitor))
        self._save_checkpoints(improved)
        self.events.emit(EpochEnd(epoch, metrics, seconds))

    def _track_best(self, value: float | None) -> bool:
        if value is None or not math.isfinite(value):
            return False
        better = (self.best_value is None or
                  (value < self.best_value if self.mode == "min" else value > self.best_value))
        if better:
            self.best_value, self.best_epoch = value, self.epoch
            if self.run_dir is None or not self.cfg.checkpoint:
                self._best_state = {k: v.detach().to("cpu", copy=True) for k, v in self.model.state_dict().items()}
        return better

    def _save_checkpoints(self, improved: bool) -> None:
        if self.run_dir is None or not self.cfg.checkpoint:
            return
        folder = self.run_dir / "checkpoints"
        state = self.state_dict()
        save_checkpoint(folder / "last.pt", state)
        if improved:
            save_checkpoint(folder / "best.pt", {"model": state["model"], "epoch": self.epoch,
                                                 "monitor": self.monitor, "value": self.best_value})
        self._save_history()

    def _save_history(self) -> None:
        if self.run_dir is not None:
            self.run_dir.mkdir(parents=True, exist_ok=True)
            self.history.save(self.run_dir / "history.json")
