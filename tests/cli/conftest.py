"""Fixtures of the CLI tests: real `hyperlab` subprocesses on a tiny digits study, run once per module."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

TINY = """
name = "tiny"
design = "grid"
seeds = 1

[data]
dataset = "digits"
subset = 150
test_subset = 150

[model]
kind = "mlp"
hidden = [8]

[train]
epochs = 2
batch_size = 50
threads = 1
optimizer = { name = "sgd", lr = 0.05 }

[[factor]]
name = "lr"
path = "train.optimizer.lr"
levels = [0.01, 0.1]

[[factor]]
name = "hidden"
path = "model.hidden"
levels = [[8], [4, 4]]
"""


def cli(*args: str, cwd: Path | None = None, input: str | None = None,
        env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    """`hyperlab ARGS` in a subprocess, with no workspace from the environment."""
    full_env = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"}
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "hyperlab", *args], capture_output=True, text=True,
                          cwd=cwd, input=input, env=full_env, timeout=300)


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
