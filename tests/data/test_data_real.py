"""The real shared datasets (slow: run by hand with `pytest -m slow tests/data`)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from data_fakes import write_cifar_archive

from hyperlab.cli.app import main
from hyperlab.data import DataConfig, cache, load_dataset, make_splits

SHARED = Path(__file__).resolve().parents[3] / "shared" / "data"
NAMES = ["cifar10", "mnist", "fashion-mnist"]

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not (SHARED / "prepare.py").is_file(), reason="needs ../shared/data"),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """../shared/data/prepare.py's npz files, made once for this module."""
    out = tmp_path_factory.mktemp("prepared")
    subprocess.run([sys.executable, str(SHARED / "prepare.py"), str(out), *NAMES], check=True,
                   capture_output=True)
    return out


def _arrays(path: Path) -> dict[str, np.ndarray]:
    with np.load(path) as archive:
        return {k: archive[k] for k in archive.files}


@pytest.mark.parametrize("name", NAMES)
def test_prepared_npz_imports_and_matches_the_published_hashes(prepared, name):
    main(["datasets", "import", name, str(prepared / f"{name}.npz")])  # returns: exit code 0

    meta = cache.remembered(cache.cache_path(name))
    assert meta is not None and meta["sha256"] == cache.PUBLISHED_SHA256[name]
    dataset = load_dataset(name)
    assert cache.hash_arrays({k: getattr(dataset, k) for k in meta["sha256"]}) == meta["sha256"]


def test_one_changed_pixel_of_cifar10_is_refused(prepared, tmp_path):
    arrays = _arrays(prepared / "cifar10.npz")
    arrays["x_test"][1234, 5, 6, 2] ^= 1
    np.savez(tmp_path / "changed.npz", **arrays)

    with pytest.raises(SystemExit) as exit_:
        main(["datasets", "import", "cifar10", str(tmp_path / "changed.npz")])
    assert exit_.value.code == 2 and not cache.cache_path("cifar10").exists()


def test_mnist_from_the_official_idx_folder_equals_the_prepared_one(prepared):
    dataset = load_dataset("mnist", root=SHARED)
    for key, want in _arrays(prepared / "mnist.npz").items():
        assert np.array_equal(getattr(dataset, key), want), key


def test_cifar10_from_an_official_archive_equals_the_prepared_one(prepared, tmp_path):
    arrays = _arrays(prepared / "cifar10.npz")
    write_cifar_archive(tmp_path / "root", arrays)

    dataset = load_dataset("cifar10", root=tmp_path / "root")

    assert dataset.verified == "sha256 = published"
    splits = make_splits(DataConfig(dataset="cifar10", validation="test", scale="standardize"))
    mean = np.array(splits.info["scale"]["offset"]) / 255
    std = 1 / np.array(splits.info["scale"]["factor"]) / 255
    assert mean == pytest.approx([0.4914, 0.4822, 0.4465], abs=1e-4)  # as ../shared/data/README.md
    assert std == pytest.approx([0.2470, 0.2435, 0.2616], abs=1e-4)
