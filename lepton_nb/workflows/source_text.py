"""The text a fine-tuned model's initial weights have read, and what that means for held-out sentences.

A text recipe with ``model.init_from`` starts from another run's encoder and reuses its tokenizer. That run
read sentences: a pretraining run its recipe's train split (or ``pretrain.path``), a classifier its train
split with labels. A test split or a cross-validation fold drawn differently may hold those same sentences,
and a score on text the encoder has read is optimistic. `SourceText` reconstructs what the source read
(from its run folder: same cleaning, same seeded split), so that

* `lnb.cross_validate` pretrains a masked-token encoder again on each fold's training part
  (`workflows.fold_pretrain`), and refuses a classifier source that has read held-out sentences;
* `lnb.train` records how many test sentences the encoder has read (the run's ``init`` note and history), and
  the Runs tab's comparison shows it beside the test accuracy.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..artifacts.init_source import InitSource
from ..data.pretrain import read_unlabeled, train_sentences
from ..errors import LeptonError
from ..recipe import DATA_KINDS, Recipe


@dataclass
class SourceText:
    """What the run ``model.init_from`` names has read: its recipe, whether it was masked-token pretraining,
    and its sentences (None when they cannot be rebuilt, e.g. its data file has moved)."""

    folder: Path
    recipe: Recipe
    pretrain: bool
    sentences: set[str] | None
    external: list[str]  # a pretraining run's ``pretrain.path`` sentences ([] for its train split)

    def seen(self, texts: Iterable[str]) -> int:
        """How many of ``texts`` the source has read."""
        return sum(t in self.sentences for t in texts) if self.sentences is not None else 0

    def what(self) -> str:
        return (f"the encoder in model.init_from ({self.folder.name}) was pretrained on" if self.pretrain else
                f"the model in model.init_from ({self.folder.name}) was trained, with labels, on")


def source_text(recipe: Recipe, init: InitSource | None = None) -> SourceText | None:
    """The text the ``model.init_from`` run of a text recipe has read (None for other recipes, for a source
    without a readable recipe, or one of other data: an image run). ``init`` is that run as the plan read it
    (opened here when not given)."""
    if not DATA_KINDS[recipe.kind].tokens or not recipe.model.init_from:
        return None
    try:
        init = init if init is not None else InitSource.open(recipe.model.init_from)
        source = Recipe.from_dict(init.recipe)
    except LeptonError:
        return None  # loading the weights says what is wrong with the folder
    if init.folder is None or init.data is None or not DATA_KINDS[source.kind].tokens:
        return None
    external: list[str] = []
    try:
        own = train_sentences(source)
        if init.pretraining and source.pretrain.path:
            external = read_unlabeled(source.pretrain.path)
        sentences: set[str] | None = set(own) | set(external)
    except (LeptonError, OSError):
        sentences = None
    return SourceText(init.folder, source, init.pretraining, sentences, external)


def held_out_seen(recipe: Recipe, test_texts: list[str], init: InitSource | None = None) -> dict[str, Any] | None:
    """How many test sentences the encoder of ``model.init_from`` has read, with a sentence saying what that
    means (None when it has read none, or for recipes without such a source)."""
    source = source_text(recipe, init)
    if source is None or not test_texts:
        return None
    if source.sentences is None:
        return {"seen": None, "of": len(test_texts),
                "note": f"{source.what()} text that could not be read back ({source.recipe.data.path}): whether "
                        "it includes test sentences is unknown"}
    seen = source.seen(test_texts)
    if not seen:
        return None
    return {"seen": seen, "of": len(test_texts),
            "note": f"{source.what()} {seen} of the {len(test_texts)} test sentences: the test score is optimistic "
                    "(use the same data.seed, val_fraction and test_fraction as that run, or pretrain on other "
                    "text)"}
