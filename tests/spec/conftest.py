"""Fixtures of the spec tests: the shared `write_study` (tests/conftest.py) writes study_text.BASE
by default: write_study(), write_study(text), write_study(text, "other.toml")."""

from __future__ import annotations

import pytest
from study_text import BASE


@pytest.fixture
def study_text() -> str:
    return BASE
