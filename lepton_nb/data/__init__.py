"""Data: sources → cleaning → split → statistics fitted on train → augmentation → batches."""

from .augment import BatchAugment, torchvision_pipeline
from .bundle import DataBundle, DataSpec, Split, build_data, kfold_bundles, load_clean_pool
from .cleaning import CleaningReport
from .normalize import NormStats, compute_stats
from .sources import Pool, load_pool
from .text import Vocab, tokenize

__all__ = [
    "BatchAugment",
    "CleaningReport",
    "DataBundle",
    "DataSpec",
    "NormStats",
    "Pool",
    "Split",
    "Vocab",
    "build_data",
    "compute_stats",
    "kfold_bundles",
    "load_clean_pool",
    "load_pool",
    "tokenize",
    "torchvision_pipeline",
]
