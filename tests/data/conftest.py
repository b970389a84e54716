"""Every data test gets its own empty cache, no data root, and no network."""

from __future__ import annotations

import pytest

from hyperlab.data import clear_memo


@pytest.fixture(autouse=True)
def isolated_data_env(tmp_path, monkeypatch):
    monkeypatch.setenv("HYPERLAB_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HYPERLAB_OFFLINE", "1")  # download tests unset it and point at 127.0.0.1
    monkeypatch.setenv("SCIKIT_LEARN_DATA", str(tmp_path / "sklearn"))  # never a real sklearn copy
    monkeypatch.delenv("HYPERLAB_DATA", raising=False)
    monkeypatch.delenv("HYPERLAB_MIRROR", raising=False)
    clear_memo()
    yield
    clear_memo()
