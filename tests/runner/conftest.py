"""Fixtures of the runner tests: one torch thread, and tiny study files (runner_helpers.study_toml)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from runner_helpers import study_toml


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def write_study(tmp_path: Path):
    def write(filename: str = "study.toml", **kwargs) -> Path:
        path = tmp_path / filename
        path.write_text(study_toml(**kwargs))
        return path

    return write
