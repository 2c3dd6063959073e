"""The recipe: one serializable description of a whole experiment.

Plain dataclasses whose fields carry metadata (help, min/max, choices) so that validation,
the command line and the studio's generated forms all read the same source of truth.
Validation collects every problem and reports each as ``field: value — allowed ...``.
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
import json
import math
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .interpret.methods import BASELINES, METHODS, default_method
from .params import Param as OpParam

__all__ = [
    "AUGMENT_OPS",
    "ARCHS_FOR_KIND",
    "SOURCE_KIND",
    "Problem",
    "Recipe",
    "RecipeError",
    "describe_fields",
]

# --------------------------------------------------------------------------------------
# Errors


@dataclass(frozen=True)
class Problem:
    """One invalid value: where it is, what it was, what would be accepted."""

    field: str
    value: Any
    allowed: str

    def __str__(self) -> str:
        return f"{self.field}: {_show(self.value)} — {self.allowed}"


class RecipeError(ValueError):
    """A recipe that cannot be used; ``problems`` lists every reason, not just the first."""

    def __init__(self, problems: list[Problem]):
        self.problems = list(problems)
        n = len(self.problems)
        head = "1 problem in the recipe" if n == 1 else f"{n} problems in the recipe"
        super().__init__(head + ":\n" + "\n".join(f"  {p}" for p in self.problems))


def _show(value: Any) -> str:
    text = json.dumps(value) if _jsonable(value) else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _jsonable(value: Any) -> bool:
    try:
        json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        return False
    return True


# --------------------------------------------------------------------------------------
# Field metadata


def spec(
    default: Any,
    help: str,
    *,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    label: str | None = None,
    log: bool = False,
    applies_to: tuple[str, ...] | None = None,
    item_choices: tuple[str, ...] | None = None,
) -> Any:
    """A dataclass field with the metadata forms and validation read.

    ``applies_to`` names the data kinds or architectures a field matters for, so a form can hide it.
    """
    meta = {
        "help": help,
        "min": min,
        "max": max,
        "choices": choices,
        "label": label,
        "log": log,
        "applies_to": applies_to,
        "item_choices": item_choices,
    }
    if isinstance(default, (list, dict)) or dataclasses.is_dataclass(default):
        return field(default_factory=lambda d=default: copy.deepcopy(d), metadata=meta)
    return field(default=default, metadata=meta)


# --------------------------------------------------------------------------------------
# Vocabularies shared with the rest of the package

SOURCE_KIND: dict[str, str] = {
    "digits": "image",
    "mnist": "image",
    "fashion_mnist": "image",
    "cifar10": "image",
    "image_folder": "image",
    "csv": "tabular",
    "breast_cancer": "tabular",
    "wine": "tabular",
    "text_tsv": "text",
}

ARCHS_FOR_KIND: dict[str, tuple[str, ...]] = {
    "image": ("cnn", "resnet", "mlp", "resnet18"),
    "tabular": ("tabular_mlp", "mlp"),
    "text": ("text_cnn", "text_bilstm"),
}

METRICS = ("accuracy", "balanced_accuracy", "precision_macro", "recall_macro", "f1_macro", "roc_auc")
MONITORS = ("val_loss", "val_accuracy", "val_balanced_accuracy", "val_f1_macro", "train_loss")


@dataclass(frozen=True)
class OpSpec:
    """An augmentation op: which data kinds it applies to and its parameters."""

    kinds: tuple[str, ...]
    help: str
    params: dict[str, OpParam]


AUGMENT_OPS: dict[str, OpSpec] = {
    "random_crop": OpSpec(
        ("image",),
        "Pad by `padding` pixels, then crop back to the original size at a random offset.",
        {"padding": OpParam(2, 0, 32, "pixels of zero padding on each side", integer=True)},
    ),
    "horizontal_flip": OpSpec(
        ("image",),
        "Mirror left-right with probability p (not for digits: a mirrored 2 is no 2).",
        {"p": OpParam(0.5, 0.0, 1.0, "probability of flipping")},
    ),
    "vertical_flip": OpSpec(
        ("image",),
        "Mirror top-bottom with probability p.",
        {"p": OpParam(0.5, 0.0, 1.0, "probability of flipping")},
    ),
    "rotation": OpSpec(
        ("image",),
        "Rotate by a random angle in [-degrees, degrees].",
        {"degrees": OpParam(10.0, 0.0, 180.0, "largest rotation in degrees")},
    ),
    "affine": OpSpec(
        ("image",),
        "Random rotation, translation, scale and shear in one resampling.",
        {
            "degrees": OpParam(10.0, 0.0, 180.0, "largest rotation in degrees"),
            "translate": OpParam(0.1, 0.0, 0.5, "largest shift as a fraction of width/height"),
            "scale": OpParam(0.1, 0.0, 0.5, "scale drawn from [1-scale, 1+scale]"),
            "shear": OpParam(0.0, 0.0, 45.0, "largest shear in degrees"),
        },
    ),
    "color_jitter": OpSpec(
        ("image",),
        "Random brightness, contrast and saturation factors in [1-x, 1+x].",
        {
            "brightness": OpParam(0.2, 0.0, 1.0, "brightness jitter"),
            "contrast": OpParam(0.2, 0.0, 1.0, "contrast jitter"),
            "saturation": OpParam(0.0, 0.0, 1.0, "saturation jitter (colour images only)"),
        },
    ),
    "gaussian_noise": OpSpec(
        ("image", "tabular"),
        "Add zero-mean Gaussian noise (images: on the [0, 1] scale; tabular: in standard deviations).",
        {"std": OpParam(0.05, 0.0, 1.0, "noise standard deviation")},
    ),
    "random_erasing": OpSpec(
        ("image",),
        "With probability p, blank a random rectangle covering a fraction of the image.",
        {
            "p": OpParam(0.5, 0.0, 1.0, "probability of erasing"),
            "scale_min": OpParam(0.02, 0.0, 1.0, "smallest erased area fraction"),
            "scale_max": OpParam(0.2, 0.0, 1.0, "largest erased area fraction"),
        },
    ),
    "word_dropout": OpSpec(
        ("text",),
        "Replace each word by the unknown token with probability p.",
        {"p": OpParam(0.1, 0.0, 0.9, "probability of dropping a word")},
    ),
    "word_swap": OpSpec(
        ("text",),
        "Swap each word with its right neighbour with probability p.",
        {"p": OpParam(0.1, 0.0, 0.9, "probability of swapping a word")},
    ),
}


def default_op(name: str) -> dict[str, Any]:
    """An augmentation op entry with every parameter at its default."""
    params = AUGMENT_OPS[name].params
    return {"op": name, **{k: (int(p.default) if p.integer else p.default) for k, p in params.items()}}


# --------------------------------------------------------------------------------------
# Sections


@dataclass
class CleanSection:
    """Data cleaning applied before training; what it removes is reported."""

    dedupe: bool = spec(True, "Remove exact duplicate samples (images, sentences or table rows).")
    missing: str = spec(
        "drop",
        "What to do with missing table values: drop the row, or impute from the train split.",
        choices=("drop", "mean", "median", "most_frequent"),
        applies_to=("tabular",),
    )
    outliers: str = spec(
        "none",
        "Remove train rows with a numeric feature beyond `outlier_z` standard deviations.",
        choices=("none", "zscore"),
        applies_to=("tabular",),
    )
    outlier_z: float = spec(4.0, "Z-score threshold for outlier removal.", min=1.0, max=100.0,
                            applies_to=("tabular",))


@dataclass
class DataSection:
    """Where the data comes from and how it is split."""

    source: str = spec("digits", "Dataset to use.", choices=tuple(SOURCE_KIND))
    root: str = spec(
        "data",
        "Folder of a torchvision dataset (mnist, fashion_mnist, cifar10) or of an image folder "
        "(one sub-folder per class).",
        applies_to=("mnist", "fashion_mnist", "cifar10", "image_folder"),
    )
    path: str = spec("", "File for csv or text_tsv sources.", applies_to=("csv", "text_tsv"))
    download: bool = spec(
        False, "Download a torchvision dataset into `root` when it is missing (needs internet).",
        applies_to=("mnist", "fashion_mnist", "cifar10"),
    )
    official_split: str = spec(
        "standard",
        "Which official split of a torchvision dataset to use: standard (official train for "
        "train/val, official test for test), or only 'train', only 'test', or 'all' pooled and split here.",
        choices=("standard", "train", "test", "all"),
        applies_to=("mnist", "fashion_mnist", "cifar10"),
    )
    target: str = spec("", "Target column of a CSV file ('' = the last column).", applies_to=("csv",))
    val_fraction: float = spec(0.1, "Fraction held out for validation (model selection).", min=0.0, max=0.5)
    test_fraction: float = spec(
        0.2, "Fraction held out for the final test (not used with official_split 'standard').",
        min=0.0, max=0.5,
    )
    limit: int = spec(0, "Use at most this many samples (0 = all); handy for quick experiments.",
                      min=0, max=10_000_000)
    seed: int = spec(0, "Seed of the split.", min=0, max=2**31 - 1)
    image_size: int = spec(32, "Side length images of an image folder are resized to.", min=8, max=512,
                           applies_to=("image_folder",))
    max_len: int = spec(48, "Words kept per sentence (longer ones are cut).", min=4, max=4096,
                        applies_to=("text",))
    min_freq: int = spec(1, "A word needs this many train occurrences to enter the vocabulary.",
                         min=1, max=1000, applies_to=("text",))
    max_vocab: int = spec(20000, "Largest vocabulary size.", min=10, max=1_000_000, applies_to=("text",))
    clean: CleanSection = spec(CleanSection(), "Cleaning.")


@dataclass
class NormalizeSection:
    """How inputs are scaled; statistics come from the train split only."""

    method: str = spec(
        "standardize",
        "standardize: (x - mean) / std per channel/feature; minmax: to [0, 1] per channel; "
        "explicit: the given mean/std; none: raw values.",
        choices=("standardize", "minmax", "explicit", "none"),
    )
    mean: list[float] = spec([], "Per-channel mean for method 'explicit'.", applies_to=("explicit",))
    std: list[float] = spec([], "Per-channel std for method 'explicit' (each > 0).", applies_to=("explicit",))


@dataclass
class AugmentSection:
    """Random transformations of training samples (never of validation/test)."""

    enabled: bool = spec(True, "Apply the ops below while training.")
    ops: list[dict[str, Any]] = spec([], "Ordered list of ops, each {'op': name, param: value, ...}.",
                                     item_choices=tuple(AUGMENT_OPS))


@dataclass
class ModelSection:
    """The architecture; its input and output sizes come from the data."""

    arch: str = spec("cnn", "Architecture (resnet18 is torchvision's ImageNet ResNet-18).",
                     choices=("cnn", "resnet", "mlp", "tabular_mlp", "text_cnn", "text_bilstm", "resnet18"))
    width: int = spec(32, "Channels of the first conv block (doubled per block) or filters per "
                          "kernel size.", min=1, max=1024,
                      applies_to=("cnn", "resnet", "text_cnn"))
    depth: int = spec(2, "Conv blocks (cnn), residual stages (resnet) or hidden layers (mlp).",
                      min=1, max=8)
    hidden: int = spec(128, "Units of hidden dense layers (and of the LSTM).", min=1, max=8192)
    dropout: float = spec(0.1, "Dropout probability before dense layers.", min=0.0, max=0.9)
    batch_norm: bool = spec(True, "Batch normalization after convolutions/dense layers.")
    embed_dim: int = spec(64, "Word embedding size.", min=2, max=2048,
                          applies_to=("text_cnn", "text_bilstm"))
    pretrained: bool = spec(False, "Start from torchvision's ImageNet weights (downloaded once into the torch "
                                   "hub cache; needs internet the first time).", applies_to=("resnet18",))
    init_from: str = spec("", "Fine-tune: start from another run's weights, given as its run folder or a "
                              "checkpoint file ('' = fresh weights). The head is reused only when the classes "
                              "match; otherwise it starts fresh.", label="initialize from")
    freeze: str = spec("none", "Layers kept fixed while training: none, or features (train only the head on "
                               "top of init_from or pretrained features).", choices=("none", "features"))


@dataclass
class EarlyStoppingSection:
    """Stop when the monitored value stops improving."""

    enabled: bool = spec(False, "Stop early when `monitor` has not improved for `patience` epochs.")
    monitor: str = spec("val_loss", "Value watched for early stopping and the best checkpoint.",
                        choices=MONITORS)
    patience: int = spec(5, "Epochs without improvement before stopping.", min=1, max=1000)
    mode: str = spec("auto", "min or max; auto picks min for losses, max otherwise.",
                     choices=("auto", "min", "max"))
    min_delta: float = spec(0.0, "Smallest change that counts as an improvement.", min=0.0, max=1e6)


@dataclass
class TrainSection:
    """The optimisation loop."""

    optimizer: str = spec("adamw", "Optimizer.", choices=("sgd", "momentum", "nesterov", "adam", "adamw"))
    lr: float = spec(3e-3, "Learning rate (the peak rate for one_cycle).", min=1e-7, max=10.0, log=True,
                     label="learning rate")
    momentum: float = spec(0.9, "Momentum for momentum/nesterov SGD (beta1 for Adam).", min=0.0, max=0.999)
    weight_decay: float = spec(1e-4, "L2 penalty (decoupled for adamw).", min=0.0, max=1.0)
    batch_size: int = spec(128, "Samples per optimizer step (before accumulation).", min=1, max=65536)
    epochs: int = spec(10, "Passes over the training split.", min=1, max=100_000)
    scheduler: str = spec("one_cycle", "Learning-rate schedule.",
                          choices=("none", "step", "cosine", "one_cycle", "warmup_cosine"))
    step_size: int = spec(5, "Epochs between decays for scheduler 'step'.", min=1, max=100_000,
                          applies_to=("step",))
    gamma: float = spec(0.1, "Decay factor for scheduler 'step'.", min=1e-4, max=1.0, applies_to=("step",))
    warmup_epochs: float = spec(1.0, "Linear warm-up length for 'warmup_cosine'.", min=0.0, max=1000.0,
                                applies_to=("warmup_cosine",))
    label_smoothing: float = spec(0.0, "Label smoothing of the cross-entropy loss.", min=0.0, max=0.5)
    grad_clip: float = spec(0.0, "Clip the gradient norm to this value (0 = off).", min=0.0, max=1e6)
    grad_accumulation: int = spec(1, "Batches whose gradients are summed per optimizer step.", min=1,
                                  max=1024)
    mixed_precision: str = spec(
        "auto", "auto: bf16/fp16 on CUDA, off on CPU; or force off/bf16/fp16.",
        choices=("auto", "off", "bf16", "fp16"),
    )
    early_stopping: EarlyStoppingSection = spec(EarlyStoppingSection(), "Early stopping.")
    checkpoint: bool = spec(True, "Write best and last checkpoints to the run folder.")
    seed: int = spec(0, "Seed of weights, shuffling and augmentation.", min=0, max=2**31 - 1)
    device: str = spec("auto", "auto picks CUDA when present, else CPU.", choices=("auto", "cpu", "cuda"))


@dataclass
class EvaluateSection:
    """What is measured on the test split."""

    metrics: list[str] = spec(["accuracy", "balanced_accuracy", "precision_macro", "recall_macro",
                               "f1_macro"], "Metrics to report (roc_auc is one-vs-rest for more than two classes).",
                              item_choices=METRICS)
    cv_folds: int = spec(5, "Folds for k-fold cross-validation.", min=2, max=50)
    top_losses: int = spec(16, "How many highest-loss test samples to keep for inspection.", min=0,
                           max=1000)


@dataclass
class InterpretSection:
    """Captum attributions: probes explained during training, and the report's attribution grid."""

    enabled: bool = spec(True, "Explain a fixed probe set at epoch ends (live timeline, report grid).")
    method: str = spec("auto", "Attribution method (captum.attr); auto: Integrated Gradients (on the word "
                               "embeddings for text).", choices=("auto", *METHODS))
    target: str = spec("pred", "Explain the predicted class or the true one.", choices=("pred", "true"))
    baseline: str = spec("zeros", "Reference input: zeros (padding for text), a blurred copy (images) or the "
                                  "train mean.", choices=BASELINES)
    probes: int = spec(8, "Probe samples (stratified: one per class first).", min=1, max=64)
    every_n_epochs: int = spec(0, "Explain the probes every this many epochs (and after the last); 0 = as "
                                  "often as `budget` allows: every epoch unless epochs are very short.", min=0,
                               max=10_000)
    budget: float = spec(0.05, "With every_n_epochs 0: the largest share of training time probes may take.",
                         min=0.001, max=1.0)
    steps: int = spec(16, "Integration steps for the Integrated Gradients methods during training.", min=4,
                      max=500)


SECTIONS: dict[str, type] = {
    "data": DataSection,
    "normalize": NormalizeSection,
    "augment": AugmentSection,
    "model": ModelSection,
    "train": TrainSection,
    "evaluate": EvaluateSection,
    "interpret": InterpretSection,
}


@dataclass
class Recipe:
    """A whole experiment: data, normalization, augmentation, model, training, evaluation."""

    name: str = spec("run", "Name of the run (used in run folders and reports).")
    data: DataSection = spec(DataSection(), "Data.")
    normalize: NormalizeSection = spec(NormalizeSection(), "Normalization.")
    augment: AugmentSection = spec(AugmentSection(), "Augmentation.")
    model: ModelSection = spec(ModelSection(), "Model.")
    train: TrainSection = spec(TrainSection(), "Training.")
    evaluate: EvaluateSection = spec(EvaluateSection(), "Evaluation.")
    interpret: InterpretSection = spec(InterpretSection(), "Interpretation.")

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

        Raises RecipeError listing every problem: wrong types, out-of-range values, unknown
        keys (with a did-you-mean suggestion) and combinations that do not fit together.
        """
        problems: list[Problem] = []
        recipe = _parse_dataclass(cls, data, "", problems)
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
        return cls.from_dict(data)

    @classmethod
    def from_file(cls, path: str | Path) -> Recipe:
        """Load a recipe from JSON, or YAML (.yaml/.yml) when PyYAML is installed."""
        path = Path(path)
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise RecipeError([Problem("recipe file", str(path), f"cannot be read ({exc.strerror})")]) from None
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
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
        return path

    def copy(self) -> Recipe:
        return copy.deepcopy(self)

    # ---- dotted access -----------------------------------------------------------------

    def get(self, key: str) -> Any:
        """Value at a dotted key such as ``"train.lr"``."""
        obj: Any = self
        for part in key.split("."):
            if not dataclasses.is_dataclass(obj) or part not in {f.name for f in dataclasses.fields(obj)}:
                raise RecipeError([Problem(key, None, _unknown_key_hint(part, obj))])
            obj = getattr(obj, part)
        return obj

    def updated(self, changes: dict[str, Any] | None = None, **dotted: Any) -> Recipe:
        """A validated copy with dotted keys changed: ``r.updated({"train.lr": 0.01})``.

        Keyword form uses ``__`` for dots: ``r.updated(train__lr=0.01)``.
        """
        all_changes = dict(changes or {})
        all_changes.update({k.replace("__", "."): v for k, v in dotted.items()})
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
                    problems.append(Problem(key, value, _did_you_mean(parts[-1], list(node))))
                else:
                    node[parts[-1]] = value
        if problems:
            raise RecipeError(problems)
        return Recipe.from_dict(data)

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
        if m.freeze == "features" and not (m.init_from or m.pretrained):
            out.append(Problem("model.freeze", m.freeze, "would train a head on random, frozen features; allowed: "
                                                         "none, or set model.init_from (a run folder or "
                                                         "checkpoint) or model.pretrained"))
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


# --------------------------------------------------------------------------------------
# Presets: tuned starting points, each valid and tested


PRESETS: dict[str, dict[str, Any]] = {
    "digits": {
        "name": "digits-cnn",
        "data": {"source": "digits"},
        "model": {"arch": "cnn", "width": 32, "depth": 2, "hidden": 128, "dropout": 0.2},
        "augment": {"ops": [{"op": "affine", "degrees": 8.0, "translate": 0.08, "scale": 0.08,
                             "shear": 0.0}]},
        "train": {"optimizer": "adamw", "lr": 5e-3, "batch_size": 64, "epochs": 12,
                  "scheduler": "one_cycle"},
    },
    "mnist": {
        "name": "mnist-cnn",
        "data": {"source": "mnist", "root": "data", "download": True},
        "model": {"arch": "cnn", "width": 16, "depth": 2, "hidden": 128, "dropout": 0.1},
        "train": {"optimizer": "adamw", "lr": 4e-3, "batch_size": 128, "epochs": 4,
                  "scheduler": "one_cycle"},
    },
    "fashion_mnist": {
        "name": "fashion-cnn",
        "data": {"source": "fashion_mnist", "root": "data", "download": True},
        "model": {"arch": "cnn", "width": 32, "depth": 2, "hidden": 128, "dropout": 0.2},
        "augment": {"ops": [{"op": "random_crop", "padding": 2}, {"op": "horizontal_flip", "p": 0.5}]},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 128, "epochs": 10},
    },
    "cifar10": {
        "name": "cifar10-resnet",
        "data": {"source": "cifar10", "root": "data", "download": True},
        "model": {"arch": "resnet", "width": 32, "depth": 3, "dropout": 0.1},
        "augment": {"ops": [{"op": "random_crop", "padding": 4}, {"op": "horizontal_flip", "p": 0.5}]},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 128, "epochs": 20},
    },
    "breast_cancer": {
        "name": "breast-cancer-mlp",
        "data": {"source": "breast_cancer"},
        "model": {"arch": "tabular_mlp", "hidden": 64, "depth": 2, "dropout": 0.2},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 32, "epochs": 30},
        "evaluate": {"metrics": ["accuracy", "balanced_accuracy", "f1_macro", "roc_auc"]},
    },
    "wine": {
        "name": "wine-mlp",
        "data": {"source": "wine"},
        "model": {"arch": "tabular_mlp", "hidden": 64, "depth": 2, "dropout": 0.2},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 16, "epochs": 40},
    },
    "sentiment": {
        "name": "sentiment-textcnn",
        "data": {"source": "text_tsv", "path": "imdb_labelled.txt", "max_len": 48},
        "model": {"arch": "text_cnn", "width": 64, "embed_dim": 64, "dropout": 0.5},
        "augment": {"ops": [{"op": "word_dropout", "p": 0.1}]},
        "train": {"optimizer": "adamw", "lr": 3e-3, "batch_size": 32, "epochs": 15, "weight_decay": 1e-3},
    },
}


# --------------------------------------------------------------------------------------
# Parsing


def _did_you_mean(key: str, known: list[str]) -> str:
    close = difflib.get_close_matches(key, known, n=1, cutoff=0.6)
    hint = f"did you mean '{close[0]}'? " if close else ""
    return f"unknown key; {hint}allowed: {', '.join(known)}"


def _unknown_key_hint(key: str, obj: Any) -> str:
    known = [f.name for f in dataclasses.fields(obj)] if dataclasses.is_dataclass(obj) else []
    return _did_you_mean(key, known)


def _range_text(meta: dict[str, Any], kind: str) -> str:
    lo, hi = meta.get("min"), meta.get("max")
    if lo is not None and hi is not None:
        return f"allowed: {kind} from {lo:g} to {hi:g}"
    if lo is not None:
        return f"allowed: {kind} ≥ {lo:g}"
    if hi is not None:
        return f"allowed: {kind} ≤ {hi:g}"
    return f"allowed: {kind}"


def _check_number(value: Any, typ: type, meta: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    kind = "a whole number" if typ is int else "a number"
    original = value
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        problems.append(Problem(where, value, _range_text(meta, kind)))
        return None
    if typ is int:
        if isinstance(value, float):
            if not value.is_integer():
                problems.append(Problem(where, value, _range_text(meta, kind)))
                return None
            value = int(value)
    else:
        value = float(value)
        if not math.isfinite(value):
            problems.append(Problem(where, value, _range_text(meta, "a finite number")))
            return None
    lo, hi = meta.get("min"), meta.get("max")
    if (lo is not None and value < lo) or (hi is not None and value > hi):
        problems.append(Problem(where, original, _range_text(meta, kind)))
        return None
    return value


def _check_value(value: Any, typ: Any, meta: dict[str, Any], where: str, problems: list[Problem]) -> Any:
    origin = typing.get_origin(typ)
    if dataclasses.is_dataclass(typ):
        return _parse_dataclass(typ, value, where, problems)
    if typ is bool:
        if not isinstance(value, bool):
            problems.append(Problem(where, value, "allowed: true or false"))
            return None
        return value
    if typ in (int, float):
        return _check_number(value, typ, meta, where, problems)
    if typ is str:
        if not isinstance(value, str):
            allowed = ("allowed: " + ", ".join(meta["choices"])) if meta.get("choices") else "allowed: text"
            problems.append(Problem(where, value, allowed))
            return None
        choices = meta.get("choices")
        if choices and value not in choices:
            close = difflib.get_close_matches(value, choices, n=1, cutoff=0.6)
            hint = f"did you mean '{close[0]}'? " if close else ""
            problems.append(Problem(where, value, f"{hint}allowed: {', '.join(choices)}"))
            return None
        return value
    if origin is list:
        (item_type,) = typing.get_args(typ)
        if not isinstance(value, list):
            problems.append(Problem(where, value, f"allowed: a list of {_type_word(item_type)}"))
            return None
        if typing.get_origin(item_type) is dict:
            return [_check_op(item, f"{where}[{i}]", problems) for i, item in enumerate(value)]
        out = []
        item_meta = {"choices": meta.get("item_choices")}
        for i, item in enumerate(value):
            out.append(_check_value(item, item_type, item_meta, f"{where}[{i}]", problems))
        return out
    raise TypeError(f"unsupported recipe field type {typ!r}")  # a bug in this module, not user input


def _type_word(typ: Any) -> str:
    return {int: "whole numbers", float: "numbers", str: "names", bool: "true/false"}.get(typ, "entries")


def _check_op(item: Any, where: str, problems: list[Problem]) -> dict[str, Any] | None:
    if not isinstance(item, dict):
        problems.append(Problem(where, item, "allowed: an object such as {\"op\": \"rotation\", \"degrees\": 10}"))
        return None
    name = item.get("op")
    if not isinstance(name, str) or name not in AUGMENT_OPS:
        close = difflib.get_close_matches(name, list(AUGMENT_OPS), n=1, cutoff=0.6) if isinstance(name, str) else []
        hint = f"did you mean '{close[0]}'? " if close else ""
        problems.append(Problem(f"{where}.op", name, f"{hint}allowed: {', '.join(AUGMENT_OPS)}"))
        return None
    params = AUGMENT_OPS[name].params
    out: dict[str, Any] = {"op": name}
    for key, value in item.items():
        if key == "op":
            continue
        if key not in params:
            problems.append(Problem(f"{where}.{key}", value,
                                    _did_you_mean(str(key), list(params)).replace("allowed:", f"{name} takes:")))
            continue
        p = params[key]
        meta = {"min": p.min, "max": p.max}
        checked = _check_number(value, int if p.integer else float, meta, f"{where}.{key}", problems)
        if checked is not None:
            out[key] = checked
    for key, p in params.items():
        out.setdefault(key, int(p.default) if p.integer else p.default)
    return out


def _parse_dataclass(cls: type, data: Any, prefix: str, problems: list[Problem]) -> Any:
    where = prefix or "recipe"
    if not isinstance(data, dict):
        problems.append(Problem(where, data, "allowed: an object with keys " +
                                ", ".join(f.name for f in dataclasses.fields(cls))))
        return None
    hints = typing.get_type_hints(cls)
    known = [f.name for f in dataclasses.fields(cls)]
    for key in data:
        if key not in known:
            name = f"{prefix}.{key}" if prefix else str(key)
            problems.append(Problem(name, data[key], _did_you_mean(str(key), known)))
    kwargs = {}
    for f in dataclasses.fields(cls):
        if f.name not in data:
            continue
        name = f"{prefix}.{f.name}" if prefix else f.name
        before = len(problems)
        value = _check_value(data[f.name], hints[f.name], dict(f.metadata), name, problems)
        if len(problems) == before:
            kwargs[f.name] = value
    return cls(**kwargs)


def describe_fields(section: Any) -> list[dict[str, Any]]:
    """Field name, type, default and metadata of a section: what form builders need."""
    hints = typing.get_type_hints(type(section) if not isinstance(section, type) else section)
    out = []
    for f in dataclasses.fields(section):
        default = f.default if f.default is not dataclasses.MISSING else f.default_factory()  # type: ignore[misc]
        out.append({"name": f.name, "type": hints[f.name], "default": default, **f.metadata})
    return out
