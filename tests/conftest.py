"""Fixtures every test folder shares: one torch thread, study files in the test's temporary folder,
the `hyperlab` command in this process or as a real one (tests/hyperlab_cli.py), and which device
the tests train on (tests/devices.py says how it is chosen)."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

if os.environ.get("HYPERLAB_TEST_DEVICE", "").strip().lower() == "cpu":
    # before torch starts CUDA: `device = "auto"` in every trial, subprocess and worker means the CPU
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/hyperlab_cli.py, for every folder

import devices  # noqa: E402
from hyperlab_cli import CliResult, hyperlab_in_process, hyperlab_subprocess  # noqa: E402


def pytest_report_header(config) -> str:
    return f"hyperlab test device: {devices.DEVICE} (HYPERLAB_TEST_DEVICE={devices.REQUESTED or 'unset'})"


@pytest.fixture(autouse=True)
def one_thread(request: pytest.FixtureRequest) -> Iterator[None]:
    """One torch thread per test (the machine is shared; these tiny models gain nothing from more,
    and runs compared with each other sum in the same order). A test marked `torch_free` checks
    that torch stays unloaded: it is left alone."""
    if request.node.get_closest_marker("torch_free"):
        yield
        return
    import torch

    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def study_text() -> str | Callable[..., str]:
    """What `write_study()` writes by default: a folder's conftest overrides it with its study text,
    or with a function of keyword arguments that returns one."""
    raise pytest.UsageError("this folder's conftest defines no `study_text`: pass write_study a text")


@pytest.fixture
def write_study(tmp_path: Path, request: pytest.FixtureRequest) -> Callable[..., Path]:
    """write_study(text=None, filename="study.toml", **fields) -> the file's path in the test's
    temporary folder; without a text, the folder's `study_text` (called with `fields` when it is a
    function)."""

    def write(text: str | None = None, filename: str = "study.toml", **fields) -> Path:
        if text is None:
            default = request.getfixturevalue("study_text")
            text = default(**fields) if callable(default) else default
        path = tmp_path / filename
        path.write_text(text, encoding="utf-8")
        return path

    return write


@pytest.fixture
def hyperlab_cli() -> Callable[..., CliResult]:
    """`hyperlab_cli(*args, input=None, env=None, cwd=None)`: the command in this process."""
    return hyperlab_in_process


@pytest.fixture
def hyperlab_process() -> Callable[..., object]:
    """`hyperlab_process(*args, cwd=None, input=None, env=None, timeout=300)`: a real process."""
    return hyperlab_subprocess
