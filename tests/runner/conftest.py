"""Fixtures of the runner tests: tiny study files (runner_helpers.study_toml) for the shared
`write_study` (tests/conftest.py): write_study(seeds=1, epochs=2, ...)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from runner_helpers import study_toml


@pytest.fixture
def study_text() -> Callable[..., str]:
    return study_toml
