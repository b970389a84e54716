"""Datasets: named sources (cache -> data root -> download), splits and scaling, as tensors.

    from hyperlab.data import DataConfig, describe, make_splits
    info = describe(DataConfig(dataset="cifar10"))         # metadata only, instant
    splits = make_splits(DataConfig(dataset="digits"))     # float32 tensors, memoized per process
"""

from __future__ import annotations

from hyperlab.data.build import clear_memo, describe, make_splits
from hyperlab.data.config import DataConfig
from hyperlab.data.dataset import DataInfo, Dataset
from hyperlab.data.registry import DatasetStatus, list_datasets, load_dataset
from hyperlab.data.splits import Splits

__all__ = [
    "DataConfig",
    "DataInfo",
    "Dataset",
    "DatasetStatus",
    "Splits",
    "clear_memo",
    "describe",
    "list_datasets",
    "load_dataset",
    "make_splits",
]
