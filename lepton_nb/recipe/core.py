"""The recipe: one serializable description of a whole experiment.

Plain dataclasses whose fields carry metadata (help, min/max, choices) so that validation,
the command line and the studio's generated forms all read the same source of truth.
Validation collects every problem and reports each as ``field: value — allowed ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import Problem, RecipeError
from ..files import atomic_write
from .defaults import fill_dependent_defaults, forget_dependent
from .fields import setting
from .methods import default_method
from .optimizers import upgrade_train
from .parse import did_you_mean, parse_dataclass, unknown_key_hint
from .presets import PRESETS
from .rules import cross_problems
from .search import SearchSection
from .sections import (
    AugmentSection,
    DataSection,
    EvaluateSection,
    InterpretSection,
    ModelSection,
    NormalizeSection,
    PretrainSection,
    TrainSection,
)
from .vocab import SOURCE_KIND


@dataclass
class Recipe:
    """A whole experiment: data, normalization, augmentation, model, training, evaluation."""

    name: str = setting("run", "Name of the run (used in run folders and reports).", affects_training=False)
    data: DataSection = setting(DataSection(), "Data.")
    normalize: NormalizeSection = setting(NormalizeSection(), "Normalization.", applies_to=("image", "tabular"))
    augment: AugmentSection = setting(AugmentSection(), "Augmentation.")
    model: ModelSection = setting(ModelSection(), "Model.")
    train: TrainSection = setting(TrainSection(), "Training.")
    evaluate: EvaluateSection = setting(EvaluateSection(), "Evaluation.", affects_training=False)
    interpret: InterpretSection = setting(InterpretSection(), "Interpretation.", affects_training=False)
    pretrain: PretrainSection = setting(PretrainSection(), "Self-supervised pretraining (lnb.pretrain).",
                                        applies_to=("text",))  # masked-token pretraining reads text
    search: SearchSection = setting(SearchSection(), "Hyperparameter search (lnb.tune, lepton-nb tune).",
                                    affects_training=False)

    # ---- construction ------------------------------------------------------------------

    @classmethod
    def default(cls) -> Recipe:
        """The embedded default: a small CNN on scikit-learn's bundled 8x8 digits (no download)."""
        return cls.preset("digits")

    @classmethod
    def preset(cls, name: str) -> Recipe:
        """A tuned starting recipe for a named dataset (see ``PRESETS``)."""
        if name not in PRESETS:
            raise RecipeError([Problem("preset", name, f"allowed: {', '.join(PRESETS)}")])
        return cls.from_dict(PRESETS[name])

    @classmethod
    def from_dict(cls, data: Any) -> Recipe:
        """Build from a (possibly partial) dict; missing keys keep their defaults.

        Keys left out take the defaults of the chosen architecture and adapter (`recipe.defaults`), else the
        field's own default. Raises RecipeError listing every problem: wrong types, out-of-range values,
        unknown keys (with a did-you-mean suggestion) and combinations that do not fit together.
        """
        problems: list[Problem] = []
        if isinstance(data, dict) and isinstance(data.get("train"), dict):
            data = {**data, "train": upgrade_train(data["train"])}
        recipe: Recipe | None = parse_dataclass(cls, fill_dependent_defaults(data), "", problems)
        if recipe is None or problems:
            raise RecipeError(problems)
        problems.extend(recipe._cross_problems())
        if problems:
            raise RecipeError(problems)
        return recipe

    @classmethod
    def from_json(cls, text: str) -> Recipe:
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise RecipeError([Problem("recipe", text[:40], f"not valid JSON ({exc.msg} at line "
                                                            f"{exc.lineno}, column {exc.colno})")]) from None
        except RecursionError:
            raise RecipeError([Problem("recipe", text[:40], "nested too deeply; allowed: a recipe object a few "
                                                            "levels deep")]) from None
        except ValueError as exc:  # e.g. an integer literal of thousands of digits
            raise RecipeError([Problem("recipe", text[:40], f"not a usable JSON value ({exc})")]) from None
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Recipe:
        """Load a recipe from JSON, or YAML (.yaml/.yml) when PyYAML is installed."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise RecipeError([Problem("recipe file", str(path), f"cannot be read ({reason})")]) from None
        except UnicodeDecodeError:
            raise RecipeError([Problem("recipe file", str(path), "is not UTF-8 text")]) from None
        if path.suffix.lower() in (".yaml", ".yml"):
            try:
                import yaml
            except ImportError:
                raise RecipeError([Problem("recipe file", str(path),
                                           "is YAML: install PyYAML (pip install pyyaml) or use JSON")]) from None
            try:
                data = yaml.safe_load(text)
            except yaml.YAMLError as exc:
                raise RecipeError([Problem("recipe file", str(path), f"is not valid YAML ({exc})")]) from None
            except (RecursionError, ValueError) as exc:
                raise RecipeError([Problem("recipe file", str(path), "is not a usable YAML recipe "
                                           f"({type(exc).__name__}: {str(exc)[:80]})")]) from None
            return cls.from_dict(data)
        return cls.from_json(text)

    # ---- serialization -----------------------------------------------------------------

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_file(self, path: str | Path) -> Path:
        """Write JSON (or YAML for .yaml/.yml); written atomically so a crash never leaves half a recipe."""
        path = Path(path)
        if path.suffix.lower() in (".yaml", ".yml"):
            import yaml

            text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        else:
            text = self.to_json() + "\n"
        try:
            atomic_write(path, text)
        except (OSError, ValueError) as exc:  # ValueError: a NUL in the path
            reason = exc.strerror if isinstance(exc, OSError) else str(exc)
            raise RecipeError([Problem("recipe file", str(path), f"cannot be written ({reason}); allowed: a file "
                                       "in a folder you can write to")]) from None
        return path

    def copy(self) -> Recipe:
        return copy.deepcopy(self)

    # ---- dotted access -----------------------------------------------------------------

    def get(self, key: str) -> Any:
        """Value at a dotted key such as ``"train.lr"``."""
        obj: Any = self
        for part in key.split("."):
            if not dataclasses.is_dataclass(obj) or part not in {f.name for f in dataclasses.fields(obj)}:
                raise RecipeError([Problem(key, None, unknown_key_hint(part, obj))])
            obj = getattr(obj, part)
        return obj

    def updated(self, changes: dict[str, Any] | None = None, **dotted: Any) -> Recipe:
        """A validated copy with dotted keys changed: ``r.updated({"train.lr": 0.01})``.

        Keyword form uses ``__`` for dots: ``r.updated(train__lr=0.01)``. Changing the architecture (or the
        adapter kind) also changes the settings it implies (`recipe.defaults`), except those changed here.
        """
        all_changes = dict(changes or {})
        all_changes.update({k.replace("__", "."): v for k, v in dotted.items()})
        before = self.to_dict()
        data = self.to_dict()
        problems = []
        for key, value in all_changes.items():
            node = data
            parts = key.split(".")
            for part in parts[:-1]:
                if not isinstance(node.get(part), dict):
                    problems.append(Problem(key, value, "no such section"))
                    break
                node = node[part]
            else:
                if parts[-1] not in node:
                    problems.append(Problem(key, value, did_you_mean(parts[-1], list(node))))
                else:
                    node[parts[-1]] = value
        if problems:
            raise RecipeError(problems)
        return Recipe.from_dict(forget_dependent(before, data, all_changes))

    # ---- validation --------------------------------------------------------------------

    @property
    def interpret_method(self) -> str:
        """``interpret.method`` with ``auto`` resolved for this recipe's data kind."""
        return default_method(self.kind) if self.interpret.method == "auto" else self.interpret.method

    @property
    def kind(self) -> str:
        """The data kind of this recipe's source: image, tabular or text."""
        return SOURCE_KIND.get(self.data.source, "image")

    def validate(self) -> list[Problem]:
        """Every problem of this recipe (empty when valid); never raises."""
        try:
            Recipe.from_dict(self.to_dict())
        except RecipeError as exc:
            return exc.problems
        except (TypeError, ValueError) as exc:  # fields set to non-serializable objects
            return [Problem("recipe", None, f"cannot be serialized: {exc}")]
        return []

    def check(self) -> Recipe:
        """Raise RecipeError when invalid; return self otherwise (for chaining)."""
        problems = self.validate()
        if problems:
            raise RecipeError(problems)
        return self

    def _cross_problems(self) -> list[Problem]:
        return cross_problems(self)

    # ---- descriptions ------------------------------------------------------------------

    def summary(self) -> str:
        """One line naming the key choices, for tables and logs."""
        t = self.train
        return (f"{self.data.source} · {self.model.arch} · {t.optimizer} lr={t.lr:g} "
                f"bs={t.batch_size} ep={t.epochs} · {t.scheduler}")
