"""`digits`: scikit-learn's bundled 8x8 handwritten digits (real data, no download)."""

from __future__ import annotations

import numpy as np

from hyperlab.data.dataset import Dataset
from hyperlab.data.sources.base import LoadOptions, Source, fixed_location

CLASSES = tuple(str(d) for d in range(10))


def load(_options: LoadOptions) -> Dataset:
    from sklearn.datasets import load_digits  # imported here: sklearn takes a second to import

    bunch = load_digits()
    return Dataset(
        name="digits", task="classification", classes=list(CLASSES),
        x_train=bunch.images.astype(np.uint8),  # (1797, 8, 8), grey levels 0..16
        y_train=bunch.target.astype(np.uint8),
        value_range=(0.0, 16.0), source="scikit-learn load_digits (bundled)", verified="bundled",
    )


SOURCE = Source(
    name="digits", task="classification", input_shape=(1, 8, 8), classes=CLASSES,
    n_train=1797, n_test=None, load=load, locate=fixed_location("bundled with scikit-learn", "bundled"),
    summary="UCI handwritten digits, 8x8 grey levels 0..16; no official test split",
)
