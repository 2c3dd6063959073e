"""Another run a new run starts from, read once before the run: `InitSource` (``model.init_from``: weights,
architecture, classes, tokenizer) and `resume_state` (``resume``: the state of a checkpoint to continue).

Both open the other run's folder through `RunFolder`, the one reader of run folders, so a run's plan
(`lepton_nb.workflows.plan`) has every input in hand before it builds anything, and a damaged or missing
source is refused before a new run folder is made.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from ..data.subword import SubwordVocab, tokens_from_summary
from ..data.text import Vocab
from ..errors import ModelError, user_path
from ..training.checkpoint import load_checkpoint
from .run_folder import checkpoint_file, folder_of

FIELD = "model.init_from"


@dataclass(frozen=True)
class InitSource:
    """A run's folder (or one of its checkpoints) as a starting point: what `lepton_nb.workflows.finetune`
    loads into a new model, and the tokenizer a text run must read its sentences with."""

    given: str  # as the recipe names it
    checkpoint: Path
    weights: dict[str, torch.Tensor]
    arch: str | None = None  # the architecture that run trained (None: its recipe is not there)
    classes: list[str] | None = None  # its class names (None: its data description is not there)
    tokens: Vocab | SubwordVocab | None = None  # its tokenizer (text runs)
    folder: Path | None = None  # its run folder
    recipe: dict[str, Any] | None = None  # its recipe.json, as written (None: not there)
    data: dict[str, Any] | None = None  # its data.json (None: not there); a pretraining run's has ``pretrain``

    @property
    def pretraining(self) -> bool:
        """Whether that run was masked-token pretraining (`lepton_nb.workflows.pretraining`)."""
        return isinstance(self.data, dict) and isinstance(self.data.get("pretrain"), dict)

    @classmethod
    def open(cls, given: str) -> InitSource:
        """Read the source once; a missing, quantized or foreign checkpoint is refused naming ``model.init_from``."""
        path = user_path(given, FIELD, ModelError)
        where = f"{FIELD}: {given!r}"
        ckpt = checkpoint_file(path, "auto", field=FIELD)
        state = load_checkpoint(ckpt)
        if state.get("quantized"):
            raise ModelError(f"{where} — {ckpt.name} holds a quantized model, which cannot be trained further; "
                             "allowed: a run folder, or its checkpoints/best.pt or last.pt")
        weights = state.get("model")
        if not isinstance(weights, dict):
            raise ModelError(f"{where} — {ckpt} holds no model weights; allowed: a checkpoint written by lepton_nb")
        folder = folder_of(path)
        recipe = folder.read_optional_json("recipe.json", FIELD, ModelError)
        data = folder.read_optional_json("data.json", FIELD, ModelError)
        arch = _at(recipe, "model", "arch")
        classes = _at(data, "spec", "classes")
        return cls(given, ckpt, weights, arch if isinstance(arch, str) and arch else None,
                   list(classes) if isinstance(classes, list) else None,
                   tokens_from_summary(data) if isinstance(data, dict) else None, folder.path,
                   recipe if isinstance(recipe, dict) else None, data if isinstance(data, dict) else None)


def resume_state(source: str | Path) -> dict[str, Any]:
    """The state of the ``last`` checkpoint of a run folder (or a checkpoint file) to continue from; temporary
    files a killed writer left in that folder are cleared first."""
    folder_of(source).remove_stale_temp_files()
    return load_checkpoint(checkpoint_file(source, "last", field="resume"))


def _at(value: Any, *keys: str) -> Any:
    for key in keys:
        value = value.get(key) if isinstance(value, dict) else None
    return value
