"""`digits`: scikit-learn's bundled 8x8 handwritten digits (real data, no download)."""

from __future__ import annotations

import gzip
import importlib.util
from pathlib import Path

import numpy as np

from hyperlab.data.dataset import Dataset
from hyperlab.data.sources.base import LoadOptions, Source, fixed_location

CLASSES = tuple(str(d) for d in range(10))


def load(_options: LoadOptions) -> Dataset:
    images, target = _bundled_digits()
    return Dataset(
        name="digits", task="classification", classes=list(CLASSES),
        x_train=images.astype(np.uint8),  # (1797, 8, 8), grey levels 0..16
        y_train=target.astype(np.uint8),
        value_range=(0.0, 16.0), source="scikit-learn load_digits (bundled)", verified="bundled",
    )


def _bundled_digits() -> tuple[np.ndarray, np.ndarray]:
    """The arrays of sklearn.datasets.load_digits, read from the CSV scikit-learn bundles (its 1,797
    rows of 64 pixels and the label) without importing scikit-learn: the import costs ~2 s of every
    process that trains on digits (each worker of a run), reading the file 0.1 s. The arrays are
    equal to load_digits' (tested); load_digits itself when the file is not where it was."""
    spec = importlib.util.find_spec("sklearn")  # locates the package without running its __init__
    csv = Path(spec.origin).parent / "datasets" / "data" / "digits.csv.gz" if spec and spec.origin else None
    if csv is None or not csv.is_file():
        from sklearn.datasets import load_digits

        bunch = load_digits()
        return bunch.images, bunch.target
    with gzip.open(csv, "rt") as rows:
        data = np.loadtxt(rows, delimiter=",")
    return data[:, :-1].reshape(-1, 8, 8), data[:, -1].astype(int)


SOURCE = Source(
    name="digits", task="classification", input_shape=(1, 8, 8), classes=CLASSES,
    n_train=1797, n_test=None, load=load, locate=fixed_location("bundled with scikit-learn", "bundled"),
    summary="UCI handwritten digits, 8x8 grey levels 0..16; no official test split",
)
