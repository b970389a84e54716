"""Fixtures of the plan tests: a study written to a file (the shared `write_study`, BASE by default)
and loaded, with optional edits."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from plan_text import BASE

from hyperlab.spec import StudySpec, load_study


@pytest.fixture
def study_text() -> str:
    """What the shared `write_study` (tests/conftest.py) writes by default."""
    return BASE


@pytest.fixture
def study_of(write_study) -> Callable[..., StudySpec]:
    """study_of(text=BASE, overrides=()) -> the loaded study."""

    def load(text: str = BASE, overrides: tuple[str, ...] = ()) -> StudySpec:
        return load_study(write_study(text), list(overrides))

    return load
