"""Fixtures of the CLI tests: the tiny digits study (cli_helpers.TINY), trained once per module."""

from __future__ import annotations

from pathlib import Path

import pytest
from cli_helpers import TINY, cli


@pytest.fixture(scope="module")
def trained(tmp_path_factory) -> tuple[Path, Path]:
    """(study file, workspace) of the tiny 2x2 grid, trained once (4 trials of 2 epochs)."""
    folder = tmp_path_factory.mktemp("trained")
    study = folder / "tiny.toml"
    study.write_text(TINY)
    workspace = folder / "ws"
    proc = cli("run", str(study), "--workspace", str(workspace), "--quiet", "--no-report")
    assert proc.returncode == 0, proc.stderr
    return study, workspace
