"""Fixtures of the search tests: small search studies (search_text.search_toml) for the shared
`write_study` (tests/conftest.py), also under the name `write_search`."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from search_text import search_toml


@pytest.fixture
def study_text() -> Callable[..., str]:
    return search_toml


@pytest.fixture
def write_search(write_study) -> Callable[..., Path]:
    """write_search(**search_toml's keywords) -> the file's path (search.toml)."""

    def write(filename: str = "search.toml", **fields) -> Path:
        return write_study(None, filename, **fields)

    return write
