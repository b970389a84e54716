"""make_splits / describe: stratified seeded splits, subsets, scaling statistics, layout, memo."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from data_fakes import images

from hyperlab.data import DataConfig, clear_memo, describe, load_dataset, make_splits
from hyperlab.data.sampling import allocate, holdout_size, pick, rng_for


def _npz(tmp_path, arrays, name="set.npz") -> str:
    np.savez(tmp_path / name, **arrays)
    return f"npz:{tmp_path / name}"


def _imbalanced(tmp_path, shape=(4, 4, 3)) -> str:
    """300 train images, classes of 150 / 100 / 50 examples, 30 test images."""
    rng = np.random.default_rng(0)
    y = np.repeat([0, 1, 2], [150, 100, 50]).astype(np.uint8)
    return _npz(tmp_path, {"x_train": rng.integers(0, 256, (300, *shape), dtype=np.uint8), "y_train": y,
                           "x_test": rng.integers(0, 256, (30, *shape), dtype=np.uint8),
                           "y_test": np.repeat([0, 1, 2], 10).astype(np.uint8)})


def test_validation_split_is_stratified_disjoint_and_complete(tmp_path):
    dataset = _imbalanced(tmp_path)
    splits = make_splits(DataConfig(dataset=dataset, validation=0.2, scale="none"))

    assert torch.bincount(splits.y_val).tolist() == [30, 20, 10]  # 20 % of every class
    assert torch.bincount(splits.y_train).tolist() == [120, 80, 40]
    raw = load_dataset(dataset).x_train.reshape(300, -1)
    rows = torch.cat([splits.x_train, splits.x_val]).permute(0, 2, 3, 1).reshape(300, -1).numpy()
    assert np.array_equal(np.unique(rows, axis=0), np.unique(raw, axis=0))  # every example exactly once


def test_split_is_seeded(tmp_path):
    dataset = _imbalanced(tmp_path)
    first = make_splits(DataConfig(dataset=dataset, split_seed=1))
    clear_memo()  # built again, not served from the memo
    same = make_splits(DataConfig(dataset=dataset, split_seed=1))
    other = make_splits(DataConfig(dataset=dataset, split_seed=2))

    assert same.x_val is not first.x_val and torch.equal(first.x_val, same.x_val)
    assert not torch.equal(first.x_val, other.x_val)


def test_subsets_are_stratified_and_describe_agrees(tmp_path):
    cfg = DataConfig(dataset=_imbalanced(tmp_path), subset=60, test_subset=9, validation=0.5)
    splits = make_splits(cfg)
    info = describe(cfg)

    assert torch.bincount(splits.y_train).tolist() == [15, 10, 5]  # 60 -> 30, 20, 10 -> half held out
    assert torch.bincount(splits.y_test).tolist() == [3, 3, 3]
    assert (info.n_train, info.n_val, info.n_test) == (len(splits.y_train), len(splits.y_val), 9)


def test_validation_on_test_shares_the_test_tensors(tmp_path):
    splits = make_splits(DataConfig(dataset=_imbalanced(tmp_path), validation="test"))

    assert splits.val_is_test and splits.x_val is splits.x_test and len(splits.x_train) == 300


@pytest.mark.parametrize("method, low, high", [("unit", 0.0, 1.0), ("symmetric", -1.0, 1.0)])
def test_range_scaling_of_images_uses_the_known_pixel_range(tmp_path, method, low, high):
    arrays = images(50, (4, 4, 3), 5)
    arrays["x_train"][0, 0, 0] = [0, 255, 0]  # the extremes exist
    arrays["x_train"][1, 0, 0] = [255, 0, 255]
    splits = make_splits(DataConfig(dataset=_npz(tmp_path, arrays), scale=method, validation="test"))

    expected = torch.from_numpy(arrays["x_train"]).permute(0, 3, 1, 2).float() / 255 * (high - low) + low
    assert torch.allclose(splits.x_train, expected, atol=1e-6)


def test_standardize_uses_per_channel_statistics_of_the_training_split_only(tmp_path):
    rng = np.random.default_rng(0)
    x = np.stack([rng.integers(0, 50, (200, 6, 6)), rng.integers(100, 256, (200, 6, 6)),
                  rng.integers(0, 256, (200, 6, 6))], axis=-1).astype(np.uint8)
    dataset = _npz(tmp_path, {"x_train": x, "y_train": np.arange(200) % 2})
    splits = make_splits(DataConfig(dataset=dataset, scale="standardize", validation=0.3))

    train = splits.x_train.double()
    assert train.mean(dim=(0, 2, 3)).abs().max() < 1e-5
    assert torch.allclose(train.std(dim=(0, 2, 3), unbiased=False), torch.ones(3, dtype=torch.float64))
    assert splits.x_val.double().mean(dim=(0, 2, 3)).abs().max() > 1e-4  # not fitted on validation
    offset = torch.tensor(splits.info["scale"]["offset"]).view(1, 3, 1, 1)
    factor = torch.tensor(splits.info["scale"]["factor"]).view(1, 3, 1, 1)
    raw_train = splits.x_train / factor + offset  # the recorded map gives back the raw pixels
    assert torch.allclose(raw_train, raw_train.round(), atol=1e-3)


def test_standardize_table_per_feature(tmp_path):
    rng = np.random.default_rng(1)
    x = rng.normal(loc=[5.0, -3.0], scale=[2.0, 0.1], size=(400, 2))
    splits = make_splits(DataConfig(dataset=_npz(tmp_path, {"x_train": x, "y_train": x[:, 0]}),
                                    scale="standardize"))

    assert splits.x_train.dtype == torch.float32 and splits.y_train.dtype == torch.float32
    assert torch.allclose(splits.x_train.mean(0), torch.zeros(2), atol=1e-5)
    assert torch.allclose(splits.x_train.std(0, unbiased=False), torch.ones(2), atol=1e-5)


def test_digits_layout_and_dtypes():
    splits = make_splits(DataConfig(dataset="digits"))
    info = describe(DataConfig(dataset="digits"))

    assert splits.x_train.shape[1:] == (1, 8, 8) == info.input_shape
    assert splits.x_train.dtype == torch.float32 and splits.y_train.dtype == torch.int64
    assert float(splits.x_train.max()) == 1.0  # digits' grey levels go to 16, not 255
    assert (len(splits.y_train), len(splits.y_val), len(splits.y_test)) == (info.n_train, info.n_val,
                                                                             info.n_test)
    assert splits.n_outputs == info.n_outputs == 10


def test_memo_returns_the_same_tensors_for_the_same_config():
    first = make_splits(DataConfig(dataset="cubic", n=60))
    again = make_splits(DataConfig(dataset="cubic", n=60))
    other = make_splits(DataConfig(dataset="cubic", n=60, seed=1))

    assert again.x_train is first.x_train and again.info is not first.info
    assert other.x_train is not first.x_train


def test_cubic_is_the_notebook_rule_and_seeded():
    clean = load_dataset("cubic", n=500, seed=3)
    noisy = load_dataset("cubic", n=500, seed=3, noise=0.1)

    x = clean.x_train
    assert np.array_equal(clean.y_train, (x[:, 0] ** 3 < x[:, 1]).astype(int))
    assert np.abs(x).max() <= 1.0
    assert np.array_equal(noisy.y_train, clean.y_train) and not np.allclose(noisy.x_train, x)


@pytest.mark.parametrize("name", ["moons", "circles", "spirals", "xor", "gauss"])
def test_synthetic_sets_are_seeded_and_two_class(name):
    a, b = load_dataset(name, n=101, seed=5), load_dataset(name, n=101, seed=5)

    assert a.x_train.shape == (101, 2) and a.x_train.dtype == np.float32
    assert np.array_equal(a.x_train, b.x_train) and set(np.unique(a.y_train)) == {0, 1}
    assert not np.array_equal(a.x_train, load_dataset(name, n=101, seed=6).x_train)


def test_allocation_is_proportional_and_exact():
    counts = np.array([7, 2, 1])
    for k in range(0, 11):
        shares = allocate(counts, k)
        assert shares.sum() == k and (shares <= counts).all()
        assert np.all(np.abs(shares - counts * k / counts.sum()) < 1)


def test_pick_keeps_class_proportions_and_uniform_pick_without_labels():
    y = np.repeat([0, 1], [90, 10])
    chosen = pick(y, 20, rng_for(0, 0))
    assert np.bincount(y[chosen]).tolist() == [18, 2] and len(set(chosen)) == 20
    assert len(pick(None, 5, rng_for(0, 0), n=10)) == 5
    assert holdout_size(10, 0.0) == 0 and holdout_size(10, 0.01) == 1 and holdout_size(10, 0.99) == 9
