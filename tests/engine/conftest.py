"""Fixtures for the engine tests: digits as Splits, one CPU thread per test."""

from __future__ import annotations

import pytest
from engine_helpers import digits_splits

from devices import DEVICE
from hyperlab.data.splits import Splits


@pytest.fixture(scope="session")
def digits() -> Splits:
    """Digits as flat features (64,), on the test device (tests/devices.py)."""
    return digits_splits(images=False).to(DEVICE)


@pytest.fixture(scope="session")
def digit_images() -> Splits:
    """Digits as (1, 8, 8) images, on the test device."""
    return digits_splits(images=True).to(DEVICE)
