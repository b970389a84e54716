"""Helpers of the CLI tests: real `hyperlab` subprocesses, and a tiny digits study."""

from __future__ import annotations

import subprocess
from pathlib import Path

from hyperlab_cli import hyperlab_subprocess

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
    """`hyperlab ARGS` in a subprocess, with no workspace from the environment (tests/hyperlab_cli.py)."""
    return hyperlab_subprocess(*args, cwd=cwd, input=input, env=env)
