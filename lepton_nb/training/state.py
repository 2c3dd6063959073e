"""What a Trainer keeps to resume: its state in types ``torch.load(weights_only=True)`` accepts, and the
checks that refuse a checkpoint that does not fit (a best.pt, another model or optimizer)."""

from __future__ import annotations

from typing import Any

import torch

from ..errors import CheckpointError


class TrainerState:
    """Mixed into `Trainer`: ``state_dict`` / ``load_state_dict`` of the model, optimizer, scheduler, scaler,
    counters, best value, dropout generator, callbacks and history."""

    model: Any
    optimizer: Any
    scheduler: Any
    scaler: Any
    cfg: Any
    epoch: int
    global_step: int
    best_value: float | None
    best_epoch: int | None
    monitor: str
    dropout_rng: Any
    callbacks: list[Any]
    history: Any

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
            "dropout_rng": self.dropout_rng.get_state(),
            "callbacks": self._callback_states(),
            "history": self.history.to_dict(),
        }

    def load_state_dict(self, state: dict[str, Any]) -> None:
        """Continue from ``state``; a checkpoint that does not fit is refused with a `CheckpointError`."""
        if not isinstance(state.get("model"), dict):
            raise CheckpointError("resume", "checkpoint", "holds no model weights; allowed: a last.pt or a run "
                                  "folder written by lepton_nb")
        if not isinstance(state.get("optimizer"), dict) or "epoch" not in state or "global_step" not in state:
            raise CheckpointError("resume", "checkpoint", "holds weights only (a best.pt?); allowed: a last.pt or "
                                  "a run folder, which keep the optimizer state needed to continue")
        restore(lambda: self.model.load_state_dict(state["model"]), "does not fit this recipe's model",
                "a last.pt of a run with the same model settings")
        restore(lambda: self.optimizer.load_state_dict(state["optimizer"]),
                f"its optimizer state does not fit train.optimizer {self.cfg.optimizer!r}",
                "a last.pt of a run with the same model and optimizer settings")
        if self.scheduler is not None and state.get("scheduler"):
            if schedule_length(state["scheduler"]) != schedule_length(self.scheduler.state_dict()):
                raise CheckpointError("resume", "checkpoint", "its learning-rate schedule was laid out for another "
                                      "scheduler or length (train.scheduler, train.epochs, data size or batch size "
                                      "changed since); "
                                      "allowed: the settings the run was started with (a run started with "
                                      "train.scheduler none or step may continue for more epochs)")
            restore(lambda: self.scheduler.load_state_dict(state["scheduler"]), "its scheduler state is damaged",
                    WRITTEN)
        if self.scaler is not None and state.get("scaler"):
            restore(lambda: self.scaler.load_state_dict(state["scaler"]), "its gradient scaler state is damaged",
                    WRITTEN)
        counters = [state["epoch"], state["global_step"], state.get("best_epoch")]
        if not all(isinstance(v, int) and not isinstance(v, bool) and v >= 0 for v in counters[:2]) or not (
                counters[2] is None or (isinstance(counters[2], int) and not isinstance(counters[2], bool))) or not (
                state.get("best_value") is None or (isinstance(state["best_value"], (int, float))
                                                    and not isinstance(state["best_value"], bool))):
            raise CheckpointError("resume", "checkpoint", f"its counters are damaged (epoch {str(state['epoch'])[:20]}"
                                  f", step {str(state['global_step'])[:20]}); allowed: {WRITTEN}")
        self.epoch, self.global_step = state["epoch"], state["global_step"]
        self.best_value, self.best_epoch = state.get("best_value"), state.get("best_epoch")
        if isinstance(state.get("dropout_rng"), torch.Tensor):
            restore(lambda: self.dropout_rng.set_state(state["dropout_rng"]), "its dropout generator state is "
                    "damaged", WRITTEN)
        saved = state.get("callbacks")
        if isinstance(saved, dict):
            for key, cb in self._callback_keys():
                if saved.get(key) and hasattr(cb, "load_state_dict"):
                    restore(lambda cb=cb, key=key: cb.load_state_dict(saved[key]), f"the state of {key} is damaged",
                            WRITTEN)
        restore(lambda: self.history.restore(state.get("history", {}), self.epoch), "its history is damaged",
                WRITTEN)

    def _callback_keys(self) -> list[tuple[str, Any]]:
        """Callbacks keyed by class name and occurrence ("EarlyStopping#0"): a resumed run may have other
        callbacks around them (a progress bar, a one-off stopper) and still finds each one's state."""
        seen: dict[str, int] = {}
        out = []
        for cb in self.callbacks:
            name = type(cb).__qualname__
            out.append((f"{name}#{seen.get(name, 0)}", cb))
            seen[name] = seen.get(name, 0) + 1
        return out

    def _callback_states(self) -> dict[str, Any]:
        return {key: cb.state_dict() for key, cb in self._callback_keys() if hasattr(cb, "state_dict")}

    def resume_from(self, state: dict[str, Any]) -> None:
        """Continue from a checkpoint's state (typically a run folder's last checkpoint)."""
        self.load_state_dict(state)


WRITTEN = "a last.pt written by lepton_nb"


def restore(apply: Any, what: str, allowed: str) -> None:
    """Apply one part of a checkpoint; anything it raises is the checkpoint's fault, said as a `CheckpointError`
    (torch and our callbacks raise many types for a damaged or foreign state)."""
    try:
        apply()
    except Exception as exc:
        raise CheckpointError("resume", "checkpoint", f"{what} ({type(exc).__name__}: {str(exc)[:200]}); "
                              f"allowed: {allowed}") from None


LENGTH_KEYS = ("total_steps", "T_max", "total_iters", "_milestones", "milestones")


def schedule_length(state: Any) -> Any:
    """What fixes a scheduler's kind and length in its state dict (SequentialLR: its parts'), compared on resume."""
    if not isinstance(state, dict):
        return None
    own = (tuple(sorted(map(str, state))), *((k, repr(state.get(k))) for k in LENGTH_KEYS if k in state))
    parts = state.get("_schedulers")
    return own + (tuple(schedule_length(p) for p in parts) if isinstance(parts, list) else ())
