"""`describe` (metadata, no arrays) and `make_splits` (tensors on a device), both from a DataConfig.

Order of operations, shared by both so their counts always agree:
1. sets without an official test split hold out `test_fraction` (stratified, seeded);
2. `subset` keeps at most that many examples of the training pool, `test_subset` of the test set;
3. `validation` holds out a fraction of what is left of the pool (or is the test set itself);
4. scaling statistics come from the training split only.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import replace
from typing import TYPE_CHECKING

import numpy as np

from hyperlab.data import cache, sampling, scaling, validate
from hyperlab.data.config import DataConfig
from hyperlab.data.dataset import DataInfo, Dataset
from hyperlab.data.registry import get_source
from hyperlab.data.sources.base import LoadOptions
from hyperlab.data.splits import Splits

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch

MEMO_SIZE = 3  # splits kept per process: a study builds the same splits for every trial
_memo: OrderedDict[tuple, Splits] = OrderedDict()
_memo_lock = threading.Lock()


def _options(cfg: DataConfig, root: str | None = None) -> LoadOptions:
    return LoadOptions(root=cache.data_root(root), n=cfg.n, noise=cfg.noise, seed=cfg.seed)


def describe(cfg: DataConfig) -> DataInfo:
    """Task, input shape, classes and split sizes of `cfg`, from static metadata (no decoding)."""
    source = get_source(cfg.dataset)
    n_all = source.n_train if source.n_train is not None else cfg.n
    if source.n_test is None:
        n_test = sampling.holdout_size(n_all, cfg.test_fraction)
        n_pool = n_all - n_test
    else:
        n_pool, n_test = n_all, source.n_test
    n_pool = min(n_pool, cfg.subset or n_pool)
    n_test = min(n_test, cfg.test_subset or n_test)
    n_val = n_test if cfg.validation == "test" else sampling.holdout_size(n_pool, cfg.validation)
    n_train = n_pool if cfg.validation == "test" else n_pool - n_val
    if n_all is not None:  # a 0- or 1-example file: say so when planning, not in the first trial
        validate.check_split_sizes(cfg.dataset, {"train": n_train, "validation": n_val, "test": n_test})
    return DataInfo(task=source.task, input_shape=source.input_shape, classes=source.classes,
                    n_train=n_train, n_test=n_test, n_val=n_val, dataset=cfg.dataset)


def make_splits(cfg: DataConfig, device: torch.device | str = "cpu", root: str | None = None) -> Splits:
    """Train/validation/test tensors of `cfg` on `device`, memoized per process (treat as read-only).
    `root`: folder with official dataset files (default $HYPERLAB_DATA): a run setting."""
    import torch

    device = torch.device(device)
    key = (cfg.model_dump_json(), str(device), str(cache.data_root(root)), str(cache.cache_root()))
    with _memo_lock:
        if key in _memo:
            _memo.move_to_end(key)
            hit = _memo[key]
            return replace(hit, info=dict(hit.info))
    splits = build_splits(cfg, device, root)
    with _memo_lock:
        _memo[key] = splits
        while len(_memo) > MEMO_SIZE:
            _memo.popitem(last=False)
    return replace(splits, info=dict(splits.info))


def clear_memo() -> None:
    with _memo_lock:
        _memo.clear()


def build_splits(cfg: DataConfig, device: torch.device, root: str | None = None) -> Splits:
    """make_splits without the memo."""
    data = get_source(cfg.dataset).load(_options(cfg, root))
    validate.check_dataset(data)  # once per process (make_splits memoizes): before any trial uses it
    x_train, y_train, x_val, y_val, x_test, y_test = _split_arrays(cfg, data)
    validate.check_split_sizes(data.source or cfg.dataset,
                               {"train": len(y_train), "validation": len(y_val), "test": len(y_test)})
    as_y = _target_converter(data, device)
    if data.is_image:  # scaled on the device, in place: one float copy of the images, no more
        x_train_t = _raw_images(x_train, device)
        affine = scaling.fit_images(x_train_t, cfg.scale, data.value_range or (0.0, 255.0))
        affine.apply_images_(x_train_t)
    else:
        affine = scaling.fit_table(x_train, cfg.scale)
        x_train_t = _inputs(x_train, affine, False, device)
    x_test_t, y_test_t = _inputs(x_test, affine, data.is_image, device), as_y(y_test)
    if cfg.validation == "test":
        x_val_t, y_val_t = x_test_t, y_test_t  # the same tensors, not copies
    else:
        x_val_t, y_val_t = _inputs(x_val, affine, data.is_image, device), as_y(y_val)
    info = {
        "dataset": cfg.dataset, "source": data.source, "verified": data.verified, "sha256": data.sha256,
        "scale": affine.as_info(), "n_train": len(y_train), "n_val": len(y_val), "n_test": len(y_test),
        "feature_names": data.feature_names,
    }
    return Splits(task=data.task, input_shape=data.input_shape, classes=list(data.classes),
                  x_train=x_train_t, y_train=as_y(y_train), x_val=x_val_t, y_val=y_val_t,
                  x_test=x_test_t, y_test=y_test_t, val_is_test=cfg.validation == "test", info=info)


def raw_test_examples(cfg: DataConfig, indices: list[int], root: str | None = None) -> np.ndarray:
    """The test examples at `indices` as the dataset stores them (unscaled numpy: images N,H,W[,C]),
    picked exactly as `make_splits` picks the test split; no torch (the report draws them)."""
    data = get_source(cfg.dataset).load(_options(cfg, root))
    return _split_arrays(cfg, data)[4][indices]


def _split_arrays(cfg: DataConfig, data: Dataset) -> tuple[np.ndarray, ...]:
    """(x_train, y_train, x_val, y_val, x_test, y_test) of `data` as `cfg` splits it (numpy, unscaled)."""
    stratify = data.task == "classification"
    x_pool, y_pool, x_test, y_test = data.x_train, data.y_train, data.x_test, data.y_test

    def take(x: np.ndarray, y: np.ndarray, k: int, stream: int) -> tuple[np.ndarray, ...]:
        """(x, y) picked (k of them, stratified) and the (x, y) left over."""
        chosen = sampling.pick(y if stratify else None, k, sampling.rng_for(cfg.split_seed, stream), len(y))
        rest = sampling.complement(chosen, len(y))
        return x[chosen], y[chosen], x[rest], y[rest]

    if x_test is None:
        k = sampling.holdout_size(len(y_pool), cfg.test_fraction)
        x_test, y_test, x_pool, y_pool = take(x_pool, y_pool, k, sampling.TEST_STREAM)
    if cfg.subset is not None and cfg.subset < len(y_pool):
        x_pool, y_pool = take(x_pool, y_pool, cfg.subset, sampling.SUBSET_STREAM)[:2]
    if cfg.test_subset is not None and cfg.test_subset < len(y_test):
        x_test, y_test = take(x_test, y_test, cfg.test_subset, sampling.TEST_SUBSET_STREAM)[:2]
    if cfg.validation == "test":
        x_train, y_train, x_val, y_val = x_pool, y_pool, x_test, y_test
    else:
        k = sampling.holdout_size(len(y_pool), cfg.validation)
        x_val, y_val, x_train, y_train = take(x_pool, y_pool, k, sampling.VALIDATION_STREAM)
    return x_train, y_train, x_val, y_val, x_test, y_test


def _raw_images(x: np.ndarray, device: torch.device) -> torch.Tensor:
    """uint8 N,H,W[,C] -> float32 N,C,H,W on device, unscaled (uint8 travels: 4x less to copy)."""
    import torch

    raw = torch.from_numpy(np.require(x, requirements="CW")).to(device)  # W: IDX buffers are read-only
    raw = raw.unsqueeze(1) if raw.ndim == 3 else raw.permute(0, 3, 1, 2)  # a view
    return raw.to(torch.float32, memory_format=torch.contiguous_format)


def _inputs(x: np.ndarray, affine: scaling.Affine, image: bool, device: torch.device) -> torch.Tensor:
    import torch

    if image:
        return affine.apply_images_(_raw_images(x, device))
    return torch.from_numpy(affine.apply_table(x)).to(device)


def _target_converter(data: Dataset, device: torch.device):
    import torch

    dtype = np.int64 if data.task == "classification" else np.float32
    return lambda y: torch.from_numpy(np.asarray(y).astype(dtype)).to(device)
