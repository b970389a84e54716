"""Fixtures of the spec tests: study files written to a temporary folder."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from study_text import BASE


@pytest.fixture
def write_study(tmp_path: Path) -> Callable[..., Path]:
    """write_study(text, name="study.toml") -> the file's path (in a fresh temporary folder)."""

    def write(text: str = BASE, name: str = "study.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write
