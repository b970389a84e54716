"""Official formats decoded from small files the tests write: CIFAR archives and folders, IDX, tar safety."""

from __future__ import annotations

import pickle
import tarfile

import numpy as np
import pytest
from data_fakes import (
    cifar_members,
    idx_bytes,
    images,
    publish,
    replace_npz,
    write_cifar_archive,
    write_cifar_folder,
    write_idx_folder,
    write_tar,
)

from hyperlab.data import cache, load_dataset
from hyperlab.data.formats import read_idx, unpickle_numpy
from hyperlab.errors import DataNotFoundError, UserError


def assert_same(dataset, arrays):
    for key, want in arrays.items():
        got = getattr(dataset, key)
        assert got.shape == want.shape, key
        assert np.array_equal(got, want), key


@pytest.mark.parametrize("layout", ["tar.gz", "folder"])
def test_cifar10_from_official_archive_or_extracted_folder(tmp_path, monkeypatch, layout):
    arrays = images(20, (32, 32, 3), 10, seed=1)
    publish(monkeypatch, "cifar10", arrays)
    root = tmp_path / "root"
    (write_cifar_archive if layout == "tar.gz" else write_cifar_folder)(root, arrays)

    dataset = load_dataset("cifar10", root=root)

    assert_same(dataset, arrays)
    assert dataset.classes[0] == "airplane" and dataset.task == "classification"
    assert dataset.verified == "sha256 = published"
    assert cache.cache_path("cifar10").is_file()  # converted once into the cache


def test_cifar100_archive_uses_fine_labels(tmp_path):
    arrays = images(12, (32, 32, 3), 100, seed=2)
    arrays["y_train"] = np.array([0, 99, 5, 7, 42, 1, 2, 3, 4, 5, 6, 98], np.uint8)
    write_cifar_archive(tmp_path, arrays, "cifar100")

    dataset = load_dataset("cifar100", root=tmp_path)

    assert_same(dataset, arrays)
    assert len(dataset.classes) == 100 and dataset.classes[99] == "worm"
    assert "recorded" in dataset.verified  # no published array hashes for CIFAR-100


@pytest.mark.parametrize("compress", [True, False])
def test_mnist_from_idx_files(tmp_path, monkeypatch, compress):
    arrays = images(30, (28, 28), 10, seed=3)
    publish(monkeypatch, "mnist", arrays)
    write_idx_folder(tmp_path / "mnist", arrays, compress=compress)

    dataset = load_dataset("mnist", root=tmp_path)

    assert_same(dataset, arrays)
    assert dataset.input_shape == (1, 28, 28)


def test_fashion_mnist_in_torchvision_layout(tmp_path, monkeypatch):
    arrays = images(10, (28, 28), 10, seed=4)
    publish(monkeypatch, "fashion-mnist", arrays)
    write_idx_folder(tmp_path / "FashionMNIST" / "raw", arrays)

    dataset = load_dataset("fashion-mnist", root=tmp_path)

    assert_same(dataset, arrays)
    assert dataset.classes[-1] == "Ankle boot"


def test_checksum_mismatch_is_refused_and_nothing_is_cached(tmp_path):
    arrays = images(20, (32, 32, 3), 10)  # not the published CIFAR-10
    write_cifar_archive(tmp_path, arrays)

    with pytest.raises(UserError, match="is not the published"):
        load_dataset("cifar10", root=tmp_path)
    assert not cache.cache_path("cifar10").exists()


def test_second_load_reads_the_cache_without_decoding_or_hashing(tmp_path, monkeypatch):
    arrays = images(20, (32, 32, 3), 10)
    publish(monkeypatch, "cifar10", arrays)
    write_cifar_archive(tmp_path, arrays)
    load_dataset("cifar10", root=tmp_path)

    def fail(*args, **kwargs):
        raise AssertionError("decoded or hashed again")

    monkeypatch.setattr("hyperlab.data.sources.cifar.unpickle_numpy", fail)
    monkeypatch.setattr(cache, "hash_arrays", fail)
    again = load_dataset("cifar10", root=tmp_path)

    assert_same(again, arrays)
    assert again.source == str(cache.cache_path("cifar10"))


def test_changed_cache_file_is_rehashed_and_refused(tmp_path, monkeypatch):
    arrays = images(20, (32, 32, 3), 10)
    publish(monkeypatch, "cifar10", arrays)
    write_cifar_archive(tmp_path, arrays)
    load_dataset("cifar10", root=tmp_path)
    changed = dict(arrays)
    changed["x_train"] = arrays["x_train"].copy()
    changed["x_train"][0, 0, 0, 0] ^= 1
    replace_npz(cache.cache_path("cifar10"), changed)  # a new file: the sidecar no longer applies

    with pytest.raises(UserError, match="x_train: sha256"):
        load_dataset("cifar10", root=tmp_path)


def test_not_found_offline_is_one_line_naming_places_and_fix(tmp_path):
    with pytest.raises(DataNotFoundError) as error:
        load_dataset("cifar10", root=tmp_path)
    message = str(error.value)
    assert "\n" not in message
    assert str(cache.cache_path("cifar10")) in message and str(tmp_path) in message
    assert "hyperlab datasets import cifar10" in message and "cifar-10-python.tar.gz" in message
    assert "shared" not in message  # a development folder of this project, never a user's


@pytest.mark.parametrize("bad", [
    tarfile.TarInfo("../escape.txt"),
    tarfile.TarInfo("/etc/escape.txt"),
    tarfile.TarInfo("cifar-10-batches-py/../../escape.txt"),
    tarfile.TarInfo("cifar-10-batches-py/link"),
])
def test_tar_member_escaping_the_target_or_a_link_is_refused(tmp_path, monkeypatch, bad):
    arrays = images(10, (32, 32, 3), 10)
    publish(monkeypatch, "cifar10", arrays)
    if bad.name.endswith("link"):
        bad.type, bad.linkname = tarfile.SYMTYPE, "/etc/passwd"
    else:
        bad.size = 3
    write_tar(tmp_path / "root" / "cifar-10-python.tar.gz", cifar_members(arrays), extra=[bad])

    with pytest.raises(UserError, match="refusing it"):
        load_dataset("cifar10", root=tmp_path / "root")
    assert not (tmp_path / "escape.txt").exists() and not cache.cache_path("cifar10").exists()


class _Evil:
    def __reduce__(self):
        import os

        return (os.system, ("echo pwned",))


def test_cifar_unpickler_builds_numpy_arrays_only():
    ok = unpickle_numpy(pickle.dumps({b"data": np.arange(6, dtype=np.uint8)}, protocol=2), "ok")
    assert np.array_equal(ok["data"], np.arange(6))

    with pytest.raises(UserError, match="is not allowed"):
        unpickle_numpy(pickle.dumps({b"data": _Evil()}, protocol=2), "evil")


def test_idx_header_must_match_the_data(tmp_path):
    good = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "good").write_bytes(idx_bytes(good))
    (tmp_path / "short").write_bytes(idx_bytes(good)[:-1])

    assert np.array_equal(read_idx(tmp_path / "good"), good)
    with pytest.raises(UserError, match="header says"):
        read_idx(tmp_path / "short")


def test_changed_cache_file_without_published_hashes_is_refused_against_the_recorded_ones(tmp_path):
    arrays = images(10, (32, 32, 3), 100)
    write_cifar_archive(tmp_path, arrays, "cifar100")
    load_dataset("cifar100", root=tmp_path)
    arrays["y_test"][0] = 99
    replace_npz(cache.cache_path("cifar100"), arrays)

    with pytest.raises(UserError, match="y_test changed since recorded"):
        load_dataset("cifar100", root=tmp_path)
