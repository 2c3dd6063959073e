"""Rules across a recipe's fields: each a small function of the recipe that reads the name tables (sources,
architectures, ops, methods, optimizers) and returns the problems it finds. `Recipe.validate` runs `RULES`."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Protocol

from ..errors import Problem
from .archs import ARCHS, archs_for
from .methods import BASELINES, METHODS, baselines_for
from .names import name_problem
from .ops import AUGMENT_OPS
from .optimizers import OPTIMIZERS
from .search import SearchSection, search_problems
from .sections import AugmentSection, DataSection, InterpretSection, ModelSection, NormalizeSection, TrainSection
from .vocab import DATA_KINDS, SOURCES


class Recipe(Protocol):
    """What the rules read of a `lepton_nb.recipe.Recipe`."""

    name: str
    data: DataSection
    normalize: NormalizeSection
    augment: AugmentSection
    model: ModelSection
    train: TrainSection
    interpret: InterpretSection
    search: SearchSection

    @property
    def kind(self) -> str: ...

    @property
    def interpret_method(self) -> str: ...


Rule = Callable[[Recipe], Iterable[Problem]]
NEEDS_WORDS = {"conv": "a convolution layer", "embedding": "an embedding layer"}  # `Method.needs` in messages


def run_name(r: Recipe) -> Iterable[Problem]:
    problem = name_problem(r.name)
    return [] if problem is None else [problem]


def arch_fits_data(r: Recipe) -> Iterable[Problem]:
    if r.kind not in ARCHS[r.model.arch].kinds:
        yield Problem("model.arch", r.model.arch,
                      f"not for {r.kind} data ({r.data.source}); allowed: {', '.join(archs_for(r.kind))}")


def source_has_its_files(r: Recipe) -> Iterable[Problem]:
    d = r.data
    needs = SOURCES[d.source].needs
    if needs and not getattr(d, needs):
        what = "a folder with one sub-folder per class" if needs == "root" else "the file to read"
        yield Problem(f"data.{needs}", getattr(d, needs), f"required for source '{d.source}': {what}")


def some_data_trains(r: Recipe) -> Iterable[Problem]:
    d = r.data
    official_test = SOURCES[d.source].official and d.official_split == "standard"
    if not official_test and d.val_fraction + d.test_fraction >= 0.9:
        yield Problem("data.test_fraction", d.test_fraction,
                      f"with val_fraction {d.val_fraction}, allowed: val_fraction + test_fraction < 0.9 (some data "
                      "must remain for training)")


def explicit_statistics(r: Recipe) -> Iterable[Problem]:
    n = r.normalize
    if n.method != "explicit":
        return
    if not n.mean or not n.std:
        yield Problem("normalize.mean", n.mean, "method 'explicit' needs mean and std lists (one value per "
                                                "channel/feature)")
    elif len(n.mean) != len(n.std):
        yield Problem("normalize.std", n.std, f"allowed: as many values as mean ({len(n.mean)})")
    if any(s <= 0 for s in n.std):
        yield Problem("normalize.std", n.std, "allowed: every value > 0")


def ops_fit(r: Recipe) -> Iterable[Problem]:
    for i, op in enumerate(r.augment.ops):
        name = op.get("op")
        spec = AUGMENT_OPS.get(name) if isinstance(name, str) else None
        if spec is None:
            continue
        if r.kind not in spec.kinds:
            fitting = [k for k, s in AUGMENT_OPS.items() if r.kind in s.kinds]
            yield Problem(f"augment.ops[{i}].op", op.get("op"), f"not for {r.kind} data; allowed: "
                                                               f"{', '.join(fitting)}")
        found = spec.check(op) if spec.check is not None else None
        if found is not None:
            yield Problem(f"augment.ops[{i}].{found[0]}", op.get(found[0]), found[1])


def method_fits(r: Recipe) -> Iterable[Problem]:
    ip, kind, arch = r.interpret, r.kind, r.model.arch
    method = METHODS[r.interpret_method]
    if kind not in method.kinds:
        fitting = [k for k, m in METHODS.items() if kind in m.kinds]
        yield Problem("interpret.method", ip.method, f"not for {kind} data; allowed: auto, {', '.join(fitting)}")
    elif method.needs and not getattr(ARCHS[arch], method.needs):
        fitting = [k for k, m in METHODS.items() if kind in m.kinds and not (m.needs and not getattr(ARCHS[arch],
                                                                                                  m.needs))]
        yield Problem("interpret.method", ip.method, f"needs {NEEDS_WORDS.get(method.needs, method.needs)}, {arch} "
                                                     f"has none; allowed with it: {', '.join(fitting)}")
    if ip.baseline in BASELINES and kind not in BASELINES[ip.baseline]:
        yield Problem("interpret.baseline", ip.baseline, f"not for {kind} data; allowed: "
                                                         f"{', '.join(baselines_for(kind))}")


def initial_weights(r: Recipe) -> Iterable[Problem]:
    m = r.model
    if m.pretrained and not ARCHS[m.arch].weights:
        with_weights = [name for name, arch in ARCHS.items() if arch.weights]
        yield Problem("model.pretrained", True, f"torchvision weights exist for arch {', '.join(with_weights)} "
                                                f"only, not {m.arch}; allowed: false, or model.arch "
                                                f"{' or '.join(with_weights)}")
    if m.pretrained and m.init_from:
        yield Problem("model.init_from", m.init_from, "model.pretrained is also set; allowed: one source of initial "
                                                      "weights ('' here, or model.pretrained false)")
    if m.freeze == "features" and not (m.init_from or m.pretrained or m.adapter.kind != "none"):
        yield Problem("model.freeze", m.freeze, "would train a head on random, frozen features; allowed: none, or "
                                                "set model.init_from (a run folder or checkpoint) or "
                                                "model.pretrained")


def model_sizes(r: Recipe) -> Iterable[Problem]:
    """Sizes of the transformer, adapters and freezing that do not fit together."""
    m = r.model
    if ARCHS[m.arch].encoder and m.embed_dim % m.heads:
        divisors = [h for h in range(1, min(m.embed_dim, 64) + 1) if m.embed_dim % h == 0]
        yield Problem("model.heads", m.heads, f"model.embed_dim ({m.embed_dim}) must split evenly into heads; "
                                              f"allowed: {', '.join(map(str, divisors))}")
    if m.freeze == "all_but_adapters" and m.adapter.kind == "none":
        yield Problem("model.freeze", m.freeze, "there are no adapters to train; allowed: none or features, or "
                                                "set model.adapter.kind to lora")
    if m.adapter.kind != "none" and not ARCHS[m.arch].adapters:
        fitting = [name for name, arch in ARCHS.items() if arch.adapters]
        yield Problem("model.adapter.kind", m.adapter.kind, f"not for arch {m.arch}; allowed with adapters: "
                                                            f"{', '.join(fitting)}")


def batches_hold_two(r: Recipe) -> Iterable[Problem]:
    t, m, always = r.train, r.model, ARCHS[r.model.arch].batch_norm
    if t.batch_size < 2 and not DATA_KINDS[r.kind].tokens and (m.batch_norm or always):
        yield Problem("train.batch_size", t.batch_size, "batch normalization needs at least 2 samples per batch; "
                                                        "allowed: 2 or more" +
                      ("" if always else ", or model.batch_norm false"))


def optimizer_settings(r: Recipe) -> Iterable[Problem]:
    t = r.train
    optimizer = OPTIMIZERS[t.optimizer]
    if optimizer.needs_momentum and t.momentum == 0:
        yield Problem("train.momentum", t.momentum, f"{optimizer.label or t.optimizer} needs momentum > 0; allowed: "
                                                    "e.g. 0.9, or train.optimizer sgd")
    if t.mixed_precision == "fp16" and t.device == "cpu":
        yield Problem("train.mixed_precision", t.mixed_precision, "fp16 needs CUDA; on CPU allowed: off, bf16, auto")


def search_settings(r: Recipe) -> Iterable[Problem]:
    return search_problems(r.search, type(r))


RULES: tuple[Rule, ...] = (run_name, arch_fits_data, source_has_its_files, some_data_trains, explicit_statistics,
                           ops_fit, method_fits, initial_weights, model_sizes, batches_hold_two, optimizer_settings,
                           search_settings)


def cross_problems(r: Recipe) -> list[Problem]:
    """Every problem the rules find, in the order of `RULES`."""
    return [problem for rule in RULES for problem in rule(r)]
