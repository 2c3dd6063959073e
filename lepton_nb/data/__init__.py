"""Data: sources → cleaning → split → normalization (train split only) → augmentation → batches."""

from .augment import BatchAugment, torchvision_pipeline
from .batches import Batches, epoch_generator, rank_share
from .build import assemble, build_data, kfold_bundles, load_clean_pool
from .bundle import DataBundle, DataSpec, Split
from .cleaning import CleaningReport
from .normalize import NormStats, compute_stats
from .sources import Pool, load_pool
from .subword import SubwordVocab, fit_tokens, tokens_from_summary, tokens_summary
from .text import Vocab, tokenize

__all__ = ["BatchAugment", "Batches", "CleaningReport", "DataBundle", "DataSpec", "NormStats", "Pool", "Split",
           "SubwordVocab", "Vocab", "assemble", "build_data", "compute_stats", "epoch_generator", "fit_tokens",
           "kfold_bundles", "load_clean_pool", "load_pool", "rank_share", "tokenize", "tokens_from_summary",
           "tokens_summary", "torchvision_pipeline"]
