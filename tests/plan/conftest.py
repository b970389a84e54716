"""Fixtures of the plan tests: a study written to a file and loaded, with optional edits."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from plan_text import BASE

from hyperlab.spec import StudySpec, load_study


@pytest.fixture
def write_study(tmp_path: Path) -> Callable[..., Path]:
    """write_study(text=BASE, name="study.toml") -> the file's path."""

    def write(text: str = BASE, name: str = "study.toml") -> Path:
        path = tmp_path / name
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def study_of(write_study) -> Callable[..., StudySpec]:
    """study_of(text=BASE, overrides=()) -> the loaded study."""

    def load(text: str = BASE, overrides: tuple[str, ...] = ()) -> StudySpec:
        return load_study(write_study(text), list(overrides))

    return load
