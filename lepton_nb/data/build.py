"""recipe → data: load, clean, limit, split, then fit vocabulary/encoders/normalization on the train rows."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import numpy as np
import torch

from ..errors import DataError
from ..recipe import DATA_KINDS, Recipe
from .bundle import DataBundle, Split
from .cleaning import CleaningReport, clean_pool
from .normalize import NormStats, compute_stats, folder_stats
from .sources import Pool, load_pool
from .split import split_indices
from .subword import SubwordVocab, fit_tokens
from .tabular import encode_table
from .text import Vocab


def load_clean_pool(recipe: Recipe) -> tuple[Pool, CleaningReport]:
    """Load the recipe's source and clean it (duplicates, missing values); limit its size."""
    cfg = recipe.data
    pool, report = clean_pool(load_pool(cfg), cfg.clean)
    report.notes += [note for note in pool.info.get("notes", []) if note]  # e.g. how image files were converted
    if cfg.limit and len(pool) + (len(pool.fixed_test) if pool.fixed_test else 0) > cfg.limit:
        pool = _limited(pool, cfg.limit, cfg.seed)
        report.add("limit", report.after - cfg.limit, f"data.limit keeps {cfg.limit} samples")
        report.after = cfg.limit
    return pool, report


def _limited(pool: Pool, limit: int, seed: int) -> Pool:
    rng = np.random.default_rng(seed)
    fixed = pool.fixed_test
    total = len(pool) + (len(fixed) if fixed is not None else 0)
    n_test = round(limit * len(fixed) / total) if fixed is not None else 0
    out = pool.subset(np.sort(rng.choice(len(pool), limit - n_test, replace=False)))
    if fixed is not None:
        out.fixed_test = fixed.subset(np.sort(rng.choice(len(fixed), max(1, n_test), replace=False)))
    return out


Tokens = Vocab | SubwordVocab | Callable[[list[str]], Vocab | SubwordVocab] | None


def assemble(recipe: Recipe, pool: Pool, report: CleaningReport, train_idx: np.ndarray,
             val_idx: np.ndarray, test: Pool, tokens: Tokens = None) -> DataBundle:
    """Fit what is fitted (vocabulary, encoders, normalization) on the train rows and build splits.

    ``tokens``: a tokenizer to reuse instead of fitting one (fine-tuning a pretrained text encoder keeps
    the vocabulary it was pretrained with), or a function fitting one on the train rows' sentences (a
    cross-validation fold whose encoder is pretrained again on its own training part)."""
    cfg = recipe.data
    parts = {"train": pool.subset(train_idx), "val": pool.subset(val_idx), "test": test}
    labels = {k: p.labels for k, p in parts.items()}
    vocab = encoder = None
    value_scale = 1.0
    lazy = bool(pool.info.get("lazy"))
    if DATA_KINDS[pool.kind].tokens:
        train_texts = [str(t) for t in parts["train"].inputs]
        vocab = (tokens(train_texts) if callable(tokens) else tokens if tokens is not None else
                 fit_tokens(train_texts, cfg.tokenizer, cfg.max_vocab, cfg.min_freq))
        xs = {k: vocab.encode(p.inputs, cfg.max_len) for k, p in parts.items()}
        report.notes = [n for n in report.notes if not n.startswith("truncated")]
        long = {k: sum(n > cfg.max_len for n in vocab.lengths(p.inputs)) for k, p in parts.items()}
        if any(long.values()):
            report.notes.append(f"truncated to data.max_len {cfg.max_len} tokens: " +
                                ", ".join(f"{v} {k}" for k, v in long.items() if v) + " sentences")
        norm = NormStats.identity()
        input_shape = [cfg.max_len]
    elif DATA_KINDS[pool.kind].columns:
        xs, labels, encoder = encode_table({k: p.inputs for k, p in parts.items()}, labels, cfg.clean, report)
        norm = compute_stats(xs["train"], recipe.normalize)
        input_shape = [xs["train"].shape[1]]
    elif lazy:
        xs = {k: list(p.inputs) for k, p in parts.items()}
        size = int(pool.info["image_size"])
        norm = folder_stats(xs["train"], size, recipe.normalize, cfg.seed)
        input_shape = [3, size, size]
    else:
        xs = {k: p.inputs for k, p in parts.items()}
        value_scale = 255.0 if xs["train"].dtype == torch.uint8 else 1.0
        norm = compute_stats(xs["train"], recipe.normalize, value_scale)
        input_shape = list(xs["train"].shape[1:])
    splits = {k: Split(xs[k], torch.as_tensor(labels[k], dtype=torch.long),
                       list(parts[k].inputs) if DATA_KINDS[pool.kind].tokens else None) for k in parts}
    ops = recipe.augment.ops if recipe.augment.enabled else []
    bundle = DataBundle(pool.kind, cfg.source, splits, pool.classes, input_shape, norm, report,
                        augment_ops=[dict(o) for o in ops], value_scale=value_scale, vocab=vocab,
                        encoder=encoder, lazy=lazy)
    bundle.check_finite()
    return bundle


def build_data(recipe: Recipe, tokens: Vocab | SubwordVocab | None = None) -> DataBundle:
    """recipe → loaded, cleaned, split, fitted data ready for training (``tokens``: see `assemble`)."""
    pool, report = load_clean_pool(recipe)
    cfg = recipe.data
    fixed = pool.fixed_test
    train_idx, val_idx, test_idx = split_indices(pool.labels, cfg.val_fraction, cfg.test_fraction, cfg.seed,
                                                 has_fixed_test=fixed is not None)
    test = fixed if fixed is not None else pool.subset(test_idx)
    return assemble(recipe, pool, report, train_idx, val_idx, test, tokens)


def kfold_bundles(recipe: Recipe, folds: int, tokens: Tokens = None) -> Iterator[tuple[int, DataBundle]]:
    """One bundle per fold of stratified k-fold CV over the non-test samples.

    Each fold's held-out part serves as both its validation and test split; statistics, encoders and the
    vocabulary are refitted on each fold's training part (the vocabulary by ``tokens`` when it is a
    function; a fixed ``tokens`` is used as is: see `workflows.kfold`).
    """
    from sklearn.model_selection import KFold, StratifiedKFold

    pool, report = load_clean_pool(recipe)
    cfg = recipe.data
    if pool.fixed_test is None and cfg.test_fraction > 0:
        rest, _, _ = split_indices(pool.labels, 0.0, cfg.test_fraction, cfg.seed)
        pool = pool.subset(rest)
    _, counts = np.unique(pool.labels, return_counts=True)
    if len(pool) < folds * 2:
        raise DataError("evaluate.cv_folds", folds, f"needs at least {2 * folds} samples; the data has "
                        f"{len(pool)}")
    splitter = (StratifiedKFold(folds, shuffle=True, random_state=cfg.seed) if counts.min() >= folds
                else KFold(folds, shuffle=True, random_state=cfg.seed))
    for i, (tr, held) in enumerate(splitter.split(np.zeros(len(pool)), pool.labels)):
        fold_report = CleaningReport(report.before, report.after, list(report.steps), list(report.notes))
        yield i, assemble(recipe, pool, fold_report, tr, held, pool.subset(held), tokens)
