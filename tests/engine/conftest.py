"""Fixtures for the engine tests: digits as Splits, one CPU thread per test."""

from __future__ import annotations

import pytest
from engine_helpers import digits_splits

from hyperlab.data.splits import Splits


@pytest.fixture(scope="session")
def digits() -> Splits:
    """Digits as flat features (64,)."""
    return digits_splits(images=False)


@pytest.fixture(scope="session")
def digit_images() -> Splits:
    """Digits as (1, 8, 8) images."""
    return digits_splits(images=True)
