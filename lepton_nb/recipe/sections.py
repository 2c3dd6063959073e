"""The recipe's sections: plain dataclasses whose fields carry help, ranges and choices."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .archs import ARCHS, archs_using
from .fields import Names, setting
from .labels import metric_label
from .methods import BASELINES, METHODS
from .ops import AUGMENT_OPS
from .optimizers import OPTIMIZERS, SCHEDULERS, optimizers_using, schedulers_using
from .search import SearchSection
from .vocab import METRICS, MONITORS, SOURCES, sources_using


@dataclass
class CleanSection:
    """Data cleaning applied before training; what it removes is reported."""

    dedupe: bool = setting(True, "Remove exact duplicate samples (images, sentences or table rows).")
    missing: str = setting(
        "drop",
        "What to do with missing table values: drop the row, or impute from the train split.",
        choices=("drop", "mean", "median", "most_frequent"),
        applies_to=("tabular",),
    )
    outliers: str = setting(
        "none",
        "Remove train rows with a numeric feature beyond `outlier_z` standard deviations.",
        choices=("none", "zscore"),
        applies_to=("tabular",),
    )
    outlier_z: float = setting(4.0, "Z-score threshold for outlier removal.", min=1.0, max=100.0,
                            applies_to=("tabular",))


@dataclass
class DataSection:
    """Where the data comes from and how it is split."""

    source: str = setting("digits", "Dataset to use.", choices=Names(SOURCES))
    root: str = setting(
        "data",
        "Folder of a torchvision dataset (mnist, fashion_mnist, cifar10) or of an image folder "
        "(one sub-folder per class).",
        applies_to=sources_using("root"),
    )
    path: str = setting("", "File for csv or text_tsv sources.", applies_to=sources_using("path"))
    download: bool = setting(
        False, "Download a torchvision dataset into `root` when it is missing (needs internet).",
        applies_to=sources_using("download"),
    )
    official_split: str = setting(
        "standard",
        "Which official split of a torchvision dataset to use: standard (official train for "
        "train/val, official test for test), or only 'train', only 'test', or 'all' pooled and split here.",
        choices=("standard", "train", "test", "all"),
        applies_to=sources_using("official_split"),
    )
    target: str = setting("", "Target column of a CSV file ('' = the last column).", applies_to=sources_using("target"))
    val_fraction: float = setting(0.1, "Fraction held out for validation (model selection).", min=0.0, max=0.5)
    test_fraction: float = setting(
        0.2, "Fraction held out for the final test (not used with official_split 'standard').",
        min=0.0, max=0.5,
    )
    limit: int = setting(0, "Use at most this many samples (0 = all); handy for quick experiments.",
                      min=0, max=10_000_000)
    seed: int = setting(0, "Seed of the split.", min=0, max=2**31 - 1)
    image_size: int = setting(32, "Side length images of an image folder are resized to.", min=8, max=512,
                              applies_to=sources_using("image_size"))
    max_len: int = setting(48, "Words kept per sentence (longer ones are cut).", min=4, max=4096,
                        applies_to=("text",))
    min_freq: int = setting(1, "A word needs this many train occurrences to enter the vocabulary.",
                         min=1, max=1000, applies_to=("text",))
    max_vocab: int = setting(20000, "Largest vocabulary size (words, or subword pieces).", min=10, max=1_000_000,
                          applies_to=("text",))
    tokenizer: str = setting("word", "word: whole words (unseen words become <unk>); bpe: subword pieces "
                                     "(byte-pair encoding) learned on the train split, so unseen words still get "
                                     "pieces.", choices=("word", "bpe"), applies_to=("text",))
    clean: CleanSection = setting(CleanSection(), "Cleaning.")


@dataclass
class NormalizeSection:
    """How inputs are scaled; statistics come from the train split only."""

    method: str = setting(
        "standardize",
        "standardize: (x - mean) / std per channel/feature; minmax: to [0, 1] per channel; "
        "explicit: the given mean/std; none: raw values.",
        choices=("standardize", "minmax", "explicit", "none"),
    )
    mean: list[float] = setting([], "Per-channel mean for method 'explicit'.", applies_to=("explicit",))
    std: list[float] = setting([], "Per-channel std for method 'explicit' (each > 0).", applies_to=("explicit",))


@dataclass
class AugmentSection:
    """Random transformations of training samples (never of validation/test)."""

    enabled: bool = setting(True, "Apply the ops below while training.")
    ops: list[dict[str, Any]] = setting([], "Ordered list of ops, each {'op': name, param: value, ...}.",
                                     item_choices=Names(AUGMENT_OPS))


@dataclass
class AdapterSection:
    """Low-rank adapters (LoRA, Hu et al. 2021) added to chosen layers; by default only they and the head train."""

    kind: str = setting("none", "none, or lora: add trainable low-rank updates B·A to the target layers (the base "
                                "is frozen unless model.freeze says none, as in peft).",
                        choices=("none", "lora"), label="adapter")
    r: int = setting(8, "Rank of each update (at most the layer's smaller side).", min=1, max=1024,
                     applies_to=("lora",))
    alpha: float = setting(16.0, "Scale: the update is multiplied by alpha / r.", min=0.0, max=10_000.0,
                           applies_to=("lora",))
    dropout: float = setting(0.0, "Dropout on the adapter's input.", min=0.0, max=0.9, applies_to=("lora",))
    targets: list[str] = setting([], "Module names (or name endings) to adapt, e.g. q, v; [] = the attention "
                                     "projections of a transformer, else every Linear/Conv2d of the features.",
                                 applies_to=("lora",))


@dataclass
class ModelSection:
    """The architecture; its input and output sizes come from the data."""

    arch: str = setting("cnn", "Architecture (resnet18 is torchvision's ImageNet ResNet-18).", choices=Names(ARCHS))
    width: int = setting(32, "Channels of the first conv block (doubled per block) or filters per "
                          "kernel size.", min=1, max=1024, applies_to=archs_using("width"))
    depth: int = setting(2, "Conv blocks (cnn), residual stages (resnet), hidden layers (mlp) or encoder blocks "
                            "(text_transformer).", min=1, max=8)
    hidden: int = setting(128, "Units of hidden dense layers, of the LSTM, or of a transformer block's "
                               "feed-forward layer.", min=1, max=8192)
    dropout: float = setting(0.1, "Dropout probability before dense layers (and inside transformer blocks).",
                             min=0.0, max=0.9)
    batch_norm: bool = setting(True, "Batch normalization after convolutions/dense layers.")
    embed_dim: int = setting(64, "Word (or piece) embedding size; the transformer's model width.", min=2, max=2048,
                             applies_to=archs_using("embed_dim"))
    heads: int = setting(4, "Attention heads per transformer block (embed_dim must be a multiple).", min=1, max=64,
                         applies_to=archs_using("heads"))
    positions: str = setting("sinusoidal", "Position encoding: fixed sinusoids, or a learned table.",
                             choices=("sinusoidal", "learned"), applies_to=archs_using("positions"))
    pooling: str = setting("cls", "Sentence vector: a learned [CLS] token's output, or the mean over tokens.",
                           choices=("cls", "mean"), applies_to=archs_using("pooling"))
    buckets: int = setting(20000, "Hashed bigram buckets of text_bow (0 = words only).", min=0, max=10_000_000,
                           applies_to=archs_using("buckets"))
    pretrained: bool = setting(False, "Start from torchvision's ImageNet weights (downloaded once into the torch "
                                      "hub cache; needs internet the first time).",
                               applies_to=Names(ARCHS, lambda arch: bool(arch.weights)))
    init_from: str = setting("", "Fine-tune: start from another run's weights, given as its run folder or a "
                              "checkpoint file ('' = fresh weights). The head is reused only when the classes "
                              "match; otherwise it starts fresh.", label="initialize from")
    freeze: str = setting("none", "Layers kept fixed while training: none (every weight trains; with an adapter, "
                                  "the base too); features (only the head and the adapters train: the default "
                                  "with an adapter, as in peft); all_but_adapters (only the adapters train).",
                          choices=("none", "features", "all_but_adapters"))
    adapter: AdapterSection = setting(AdapterSection(), "Adapters (LoRA).")


@dataclass
class AdversarialSection:
    """Adversarial training: train on perturbed inputs the current model gets wrong (Madry et al. 2018)."""

    method: str = setting("none", "none; pgd (projected gradient descent, Madry et al. 2018: steps+1 passes per "
                                  "batch); fgsm_rs (FGSM with random start, Wong et al. 2020: 2 passes per batch).",
                          choices=("none", "pgd", "fgsm_rs"), label="adversarial training")
    eps: float = setting(0.1, "Largest change of an input: pixels in [0, 1] for images, standard deviations of "
                              "each column for tables.", min=0.0, max=1.0, applies_to=("pgd", "fgsm_rs"),
                         label="ε (budget)")
    steps: int = setting(7, "PGD steps per batch (each costs one forward and backward pass).", min=1, max=100,
                         applies_to=("pgd",))
    alpha: float = setting(0.0, "Step size; 0 = 2.5·ε/steps for pgd, 1.25·ε for fgsm_rs.", min=0.0, max=1.0,
                           applies_to=("pgd", "fgsm_rs"), label="step size α")
    ratio: float = setting(1.0, "Share of each batch replaced by its adversarial version (1 = all).", min=0.0,
                           max=1.0, applies_to=("pgd", "fgsm_rs"))
    val_samples: int = setting(256, "Validation samples attacked with PGD after each epoch for the live robust "
                                    "accuracy (0 = off).", min=0, max=100_000, applies_to=("pgd", "fgsm_rs"))


@dataclass
class EarlyStoppingSection:
    """Stop when the monitored value stops improving."""

    enabled: bool = setting(False, "Stop early when `monitor` has not improved for `patience` epochs.")
    monitor: str = setting("val_loss", "Value watched for early stopping and the best checkpoint.",
                        choices=MONITORS)
    patience: int = setting(5, "Epochs without improvement before stopping.", min=1, max=1000)
    mode: str = setting("auto", "min or max; auto picks min for losses, max otherwise.",
                     choices=("auto", "min", "max"))
    min_delta: float = setting(0.0, "Smallest change that counts as an improvement.", min=0.0, max=1e6)


@dataclass
class TrainSection:
    """The optimisation loop."""

    optimizer: str = setting("adamw", "Optimizer.", choices=Names(OPTIMIZERS))
    lr: float = setting(3e-3, "Learning rate (the peak rate for one_cycle).", min=1e-7, max=10.0, log=True,
                     label="learning rate")
    momentum: float = setting(0.9, "Momentum of SGD with momentum or Nesterov momentum.", min=0.0, max=0.999,
                              applies_to=optimizers_using("momentum"))
    beta1: float = setting(0.9, "Adam's first-moment decay (β1): how much of earlier gradients each step keeps.",
                           min=0.0, max=0.999, applies_to=optimizers_using("beta1"), label="β1")
    weight_decay: float = setting(1e-4, "L2 penalty (decoupled for adamw).", min=0.0, max=1.0)
    batch_size: int = setting(128, "Samples per optimizer step (before accumulation).", min=1, max=65536)
    epochs: int = setting(10, "Passes over the training split.", min=1, max=100_000)
    scheduler: str = setting("one_cycle", "Learning-rate schedule.", choices=Names(SCHEDULERS))
    step_size: int = setting(5, "Epochs between decays for scheduler 'step'.", min=1, max=100_000,
                             applies_to=schedulers_using("step_size"))
    gamma: float = setting(0.1, "Decay factor for scheduler 'step'.", min=1e-4, max=1.0,
                           applies_to=schedulers_using("gamma"))
    warmup_epochs: float = setting(1.0, "Linear warm-up length for 'warmup_cosine'.", min=0.0, max=1000.0,
                                   applies_to=schedulers_using("warmup_epochs"))
    label_smoothing: float = setting(0.0, "Label smoothing of the cross-entropy loss.", min=0.0, max=0.5)
    grad_clip: float = setting(0.0, "Clip the gradient norm to this value (0 = off).", min=0.0, max=1e6)
    grad_accumulation: int = setting(1, "Batches whose gradients are summed per optimizer step.", min=1,
                                  max=1024)
    mixed_precision: str = setting(
        "auto", "Compute with 16-bit numbers instead of 32-bit where that is safe: on a GPU, faster and half the "
                "memory for nearly the same accuracy. auto: 16-bit on a GPU, 32-bit on a CPU.",
        choices=("auto", "off", "bf16", "fp16"), label="16-bit math",
        choice_labels={"auto": "auto", "off": "off: 32-bit", "bf16": "16-bit (bfloat16)",
                       "fp16": "16-bit (float16)"},
    )
    early_stopping: EarlyStoppingSection = setting(EarlyStoppingSection(), "Early stopping.")
    adversarial: AdversarialSection = setting(AdversarialSection(), "Adversarial training.")
    checkpoint: bool = setting(True, "Write best and last checkpoints to the run folder.", affects_training=False)
    seed: int = setting(0, "Seed of weights, shuffling and augmentation.", min=0, max=2**31 - 1)
    device: str = setting("auto", "auto picks CUDA when present, else CPU.", choices=("auto", "cpu", "cuda"))


@dataclass
class EvaluateSection:
    """What is measured on the test split."""

    metrics: list[str] = setting(["accuracy", "balanced_accuracy", "precision_macro", "recall_macro",
                               "f1_macro"], "What to measure on the test split and in each cross-validation fold; "
                                            "a table shows what each one means when you point at its name.",
                              item_choices=METRICS, choice_labels={m: metric_label(m) for m in METRICS})
    cv_folds: int = setting(5, "Folds for k-fold cross-validation.", min=2, max=50)
    top_losses: int = setting(16, "How many highest-loss test samples to keep for inspection.", min=0,
                           max=1000)


@dataclass
class InterpretSection:
    """Captum attributions: probes explained during training, and the report's attribution grid."""

    enabled: bool = setting(True, "Explain a fixed probe set at epoch ends (live timeline, report grid).")
    method: str = setting("auto", "Attribution method (captum.attr); auto: Integrated Gradients (on the word "
                               "embeddings for text).", choices=Names(METHODS, first=("auto",)))
    target: str = setting("pred", "Explain the predicted class or the true one.", choices=("pred", "true"))
    baseline: str = setting("zeros", "Reference input: zeros (padding for text), a blurred copy (images) or the "
                                  "train mean.", choices=Names(BASELINES))
    probes: int = setting(8, "Probe samples (stratified: one per class first).", min=1, max=64)
    every_n_epochs: int = setting(0, "Explain the probes every this many epochs (and after the last); 0 = as "
                                  "often as `budget` allows: each of the first epochs, then spaced, always the last.",
                               min=0, max=10_000)
    budget: float = setting(0.05, "With every_n_epochs 0: the largest share of training time probes may take.",
                         min=0.001, max=1.0)
    steps: int = setting(16, "Integration steps for the Integrated Gradients methods during training.", min=4,
                      max=500)


@dataclass
class PretrainSection:
    """Self-supervised pretraining of a text encoder by masked-token prediction (BERT, Devlin et al. 2019)."""

    path: str = setting("", "Unlabeled text: a .txt file (one sentence a line) or a folder of them; '' = the "
                            "train split's sentences without labels (never validation or test sentences).")
    mask_prob: float = setting(0.15, "Share of tokens to predict; of those 80 % become [MASK], 10 % a random "
                                     "token, 10 % stay.", min=0.01, max=0.5)
    epochs: int = setting(20, "Passes over the unlabeled text.", min=1, max=100_000)
    lr: float = setting(1e-3, "Learning rate of pretraining.", min=1e-7, max=10.0, log=True, label="learning rate")
    batch_size: int = setting(64, "Sentences per step.", min=1, max=65536)


SECTIONS: dict[str, type] = {
    "data": DataSection,
    "normalize": NormalizeSection,
    "augment": AugmentSection,
    "model": ModelSection,
    "train": TrainSection,
    "evaluate": EvaluateSection,
    "interpret": InterpretSection,
    "pretrain": PretrainSection,
    "search": SearchSection,
}
