"""The studio's data: the data section's dataset, loaded in the background whenever that section changes.

Only the data section (and the normalization) decide what is loaded; the rest of the recipe rebinds the loaded
data when a run or a job needs it (`data_for`), so editing the model or the training settings reloads nothing.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from typing import Any

from ..data import DataBundle, build_data
from ..recipe import ARCHS_FOR_KIND, DATA_KINDS, SOURCE_KIND, Recipe
from .tasks import Latest


def data_key(data_values: dict[str, Any]) -> str:
    return json.dumps(data_values, sort_keys=True)


def data_recipe(data_values: dict[str, Any], normalize: dict[str, Any]) -> Recipe:
    """A recipe that loads the data section (with the default architecture of its kind, so that it validates)."""
    kind = SOURCE_KIND.get(data_values.get("source", ""), "image")
    return Recipe.from_dict({"data": data_values, "model": {"arch": ARCHS_FOR_KIND[kind][0]}, "augment": {"ops": []},
                             "normalize": normalize})


class DataLoader:
    """Loads the data section's dataset in the background; ``on_change(what)`` hears ``loading``, ``loaded`` and
    ``failed`` (then ``error`` and ``traceback`` say why)."""

    def __init__(self) -> None:
        self.data: DataBundle | None = None
        self.key: str | None = None
        self.error: BaseException | None = None
        self.traceback = ""
        self.on_change: Callable[[str], None] = lambda what: None
        self._lock = threading.RLock()
        self.task = Latest(self._load, self._loaded, self._failed, delay=0.3, name="lepton_nb-data")

    def load(self, values: dict[str, Any]) -> None:
        """(Re)load the data of a recipe's values (the form's: ``data`` and ``normalize`` are read)."""
        self.key, self.error = data_key(values["data"]), None  # an error was the old data's
        self.on_change("loading")
        self.task(values["data"], values["normalize"], self.key)

    def stale(self, values: dict[str, Any]) -> bool:
        """The data section in ``values`` is not the one loaded (or loading)."""
        return data_key(values["data"]) != self.key

    def _load(self, data_values: dict[str, Any], normalize: dict[str, Any], key: str) -> tuple[DataBundle, str]:
        return build_data(data_recipe(data_values, normalize)), key

    def _loaded(self, result: tuple[DataBundle, str]) -> None:
        with self._lock:
            self.data, self.error = result[0], None
        self.on_change("loaded")

    def _failed(self, exc: BaseException, tb: str) -> None:
        with self._lock:
            self.data, self.error, self.traceback = None, exc, tb
        self.on_change("failed")

    def wait(self, timeout: float | None = 60) -> bool:
        return self.task.wait(timeout)

    def data_for(self, recipe: Recipe) -> DataBundle | None:
        """The loaded data, re-fitted to this recipe's normalization and augmentation; None if stale, or when a
        text recipe fine-tunes another run (``model.init_from``): its ids come from that run's tokenizer, so the
        run (or job) builds its data itself."""
        with self._lock:
            data, key = self.data, self.key
        if data is None or key != data_key(recipe.to_dict()["data"]):
            return None
        if DATA_KINDS[recipe.kind].tokens and recipe.model.init_from:
            return None
        return data.rebind(recipe)

    def close(self, timeout: float = 60.0) -> None:
        self.task.close(timeout)
