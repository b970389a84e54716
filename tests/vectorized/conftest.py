"""Fixtures of the vectorized tests: one torch thread, digits as flat features and as images."""

from __future__ import annotations

import pytest

from devices import DEVICE
from hyperlab.data import DataConfig, make_splits
from hyperlab.data.splits import Splits


@pytest.fixture(scope="session")
def digits() -> Splits:
    """scikit-learn's digits through hyperlab.data: (1, 8, 8) images, 10 classes, on the test device."""
    return make_splits(DataConfig(dataset="digits"), device=DEVICE)
