"""Fixtures of the search tests: one torch thread, study files in a temporary folder."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from search_text import search_toml


@pytest.fixture(autouse=True)
def one_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def write_search(tmp_path: Path):
    def write(filename: str = "search.toml", **kwargs) -> Path:
        path = tmp_path / filename
        path.write_text(search_toml(**kwargs))
        return path

    return write
