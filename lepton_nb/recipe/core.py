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
from .methods import METHODS, default_method
from .names import name_problem
from .ops import AUGMENT_OPS
from .parse import did_you_mean, parse_dataclass, unknown_key_hint
from .presets import PRESETS
from .search import SearchSection, search_problems
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
from .vocab import ARCHS_FOR_KIND, SOURCE_KIND


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
        recipe = parse_dataclass(cls, fill_dependent_defaults(data), "", problems)
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
        out: list[Problem] = []
        bad_name = name_problem(self.name)
        if bad_name is not None:
            out.append(bad_name)
        kind = self.kind
        d, t = self.data, self.train
        archs = ARCHS_FOR_KIND[kind]
        if self.model.arch not in archs:
            out.append(Problem("model.arch", self.model.arch,
                               f"not for {kind} data ({d.source}); allowed: {', '.join(archs)}"))
        if d.source in ("csv", "text_tsv") and not d.path:
            out.append(Problem("data.path", d.path, f"required for source '{d.source}': the file to read"))
        if d.source == "image_folder" and not d.root:
            out.append(Problem("data.root", d.root, "required for image_folder: a folder with one "
                                                    "sub-folder per class"))
        uses_test_fraction = not (d.source in ("mnist", "fashion_mnist", "cifar10")
                                  and d.official_split == "standard")
        if uses_test_fraction and d.val_fraction + d.test_fraction >= 0.9:
            out.append(Problem("data.test_fraction", d.test_fraction,
                               f"with val_fraction {d.val_fraction}, allowed: val_fraction + test_fraction "
                               f"< 0.9 (some data must remain for training)"))
        n = self.normalize
        if n.method == "explicit":
            if not n.mean or not n.std:
                out.append(Problem("normalize.mean", n.mean, "method 'explicit' needs mean and std lists "
                                                             "(one value per channel/feature)"))
            elif len(n.mean) != len(n.std):
                out.append(Problem("normalize.std", n.std, f"allowed: as many values as mean ({len(n.mean)})"))
            if any(s <= 0 for s in n.std):
                out.append(Problem("normalize.std", n.std, "allowed: every value > 0"))
        for i, op in enumerate(self.augment.ops):
            name = op.get("op")
            if name in AUGMENT_OPS and kind not in AUGMENT_OPS[name].kinds:
                fitting = [k for k, s in AUGMENT_OPS.items() if kind in s.kinds]
                out.append(Problem(f"augment.ops[{i}].op", name,
                                   f"not for {kind} data; allowed: {', '.join(fitting)}"))
            if name == "random_erasing" and op.get("scale_min", 0) > op.get("scale_max", 1):
                out.append(Problem(f"augment.ops[{i}].scale_min", op.get("scale_min"),
                                   f"allowed: at most scale_max ({op.get('scale_max')})"))
        ip = self.interpret
        method = METHODS[self.interpret_method]
        if kind not in method.kinds:
            fitting = [k for k, m in METHODS.items() if kind in m.kinds]
            out.append(Problem("interpret.method", ip.method, f"not for {kind} data; allowed: auto, "
                                                              f"{', '.join(fitting)}"))
        elif method.needs == "conv" and self.model.arch not in ("cnn", "resnet", "resnet18"):
            out.append(Problem("interpret.method", ip.method, f"needs a convolution layer, {self.model.arch} has "
                                                              "none; allowed with it: integrated_gradients, saliency, "
                                                              "smoothgrad, gradient_shap, deeplift, occlusion"))
        if ip.baseline == "blur" and kind != "image":
            out.append(Problem("interpret.baseline", ip.baseline, f"for images only; for {kind} data allowed: "
                                                                  "zeros, mean"))
        m = self.model
        if m.pretrained and m.arch != "resnet18":
            out.append(Problem("model.pretrained", True, f"torchvision weights exist for arch resnet18 only, "
                                                         f"not {m.arch}; allowed: false, or model.arch resnet18"))
        if m.pretrained and m.init_from:
            out.append(Problem("model.init_from", m.init_from, "model.pretrained is also set; allowed: one "
                                                                "source of initial weights ('' here, or "
                                                                "model.pretrained false)"))
        if m.freeze == "features" and not (m.init_from or m.pretrained or m.adapter.kind != "none"):
            out.append(Problem("model.freeze", m.freeze, "would train a head on random, frozen features; allowed: "
                                                         "none, or set model.init_from (a run folder or "
                                                         "checkpoint) or model.pretrained"))
        out.extend(_model_problems(m, kind))
        if t.batch_size < 2 and kind != "text" and (m.batch_norm or m.arch == "resnet18"):
            out.append(Problem("train.batch_size", t.batch_size, "batch normalization needs at least 2 samples per "
                                                                 "batch; allowed: 2 or more" +
                               ("" if m.arch == "resnet18" else ", or model.batch_norm false")))
        if t.optimizer == "nesterov" and t.momentum == 0:
            out.append(Problem("train.momentum", t.momentum, "Nesterov momentum needs momentum > 0; allowed: e.g. "
                                                             "0.9, or train.optimizer sgd"))
        out.extend(search_problems(self.search, Recipe))
        if t.mixed_precision == "fp16" and t.device == "cpu":
            out.append(Problem("train.mixed_precision", t.mixed_precision,
                               "fp16 needs CUDA; on CPU allowed: off, bf16, auto"))
        return out

    # ---- descriptions ------------------------------------------------------------------

    def summary(self) -> str:
        """One line naming the key choices, for tables and logs."""
        t = self.train
        return (f"{self.data.source} · {self.model.arch} · {t.optimizer} lr={t.lr:g} "
                f"bs={t.batch_size} ep={t.epochs} · {t.scheduler}")


def _model_problems(m: ModelSection, kind: str) -> list[Problem]:
    """Sizes of the transformer, adapters and freezing that do not fit together."""
    out: list[Problem] = []
    if m.arch == "text_transformer" and m.embed_dim % m.heads:
        divisors = [h for h in range(1, min(m.embed_dim, 64) + 1) if m.embed_dim % h == 0]
        out.append(Problem("model.heads", m.heads, f"model.embed_dim ({m.embed_dim}) must split evenly into heads; "
                                                   f"allowed: {', '.join(map(str, divisors))}"))
    if m.freeze == "all_but_adapters" and m.adapter.kind == "none":
        out.append(Problem("model.freeze", m.freeze, "there are no adapters to train; allowed: none or features, or "
                                                     "set model.adapter.kind to lora"))
    if m.adapter.kind != "none" and m.arch in ("text_bilstm", "resnet18"):
        out.append(Problem("model.adapter.kind", m.adapter.kind, f"not for arch {m.arch}; allowed with adapters: "
                                                                 "text_transformer, text_cnn, text_bow, cnn, resnet, "
                                                                 "mlp, tabular_mlp"))
    return out
