"""Datasets: named sources (cache -> data root -> download), splits and scaling, as tensors.

    from hyperlab.data import DataConfig, describe, make_splits
    info = describe(DataConfig(dataset="cifar10"))         # metadata only, instant
    splits = make_splits(DataConfig(dataset="digits"))     # float32 tensors, memoized per process
"""

from __future__ import annotations

from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "clear_memo": "hyperlab.data.build",
    "describe": "hyperlab.data.build",
    "make_splits": "hyperlab.data.build",
    "DataConfig": "hyperlab.data.config",
    "DataInfo": "hyperlab.data.dataset",
    "Dataset": "hyperlab.data.dataset",
    "DatasetStatus": "hyperlab.data.registry",
    "list_datasets": "hyperlab.data.registry",
    "load_dataset": "hyperlab.data.registry",
    "Splits": "hyperlab.data.splits",
}

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


# Exports load on first use (PEP 562): commands that only read the store import this package's
# pure modules (configs, versions) without pulling in torch through the others.
__getattr__ = lazy_exports(__name__, _EXPORTS)
