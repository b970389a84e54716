"""Helpers of the dashboard tests (a module of its own: `from conftest import` is ambiguous when pytest
is given several test folders, each with a conftest)."""

from __future__ import annotations

import os
import socket
import sys
from pathlib import Path

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]

# Two studies with the same variants and seeds but a different width: the comparison pairs them by seed.
COMPARED_STUDY = """
name = "{name}"
description = "Digits MLP of width {width}: the learning rate, 3 seeds"
design = "ablation"
seeds = 3

[data]
dataset = "digits"
subset = 240
validation = 0.25

[model]
kind = "mlp"
hidden = [{width}]

[train]
epochs = 4
batch_size = 32
optimizer = {{ name = "sgd", lr = 0.05, momentum = 0.9 }}
threads = 1

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.01]
"""

# Trained by a real `hyperlab run` while the dashboard is open: 4 trials x 30 epochs, one at a time,
# about ten seconds of training on this 2-core machine, then the report.
LIVE_STUDY = """
name = "live"
description = "Trains while the dashboard watches"
design = "ablation"
seeds = 2

[data]
dataset = "digits"
subset = 400
validation = 0.25

[model]
kind = "mlp"
hidden = [32]

[train]
epochs = 30
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }
threads = 1

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.01]
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def hyperlab_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hyperlab", *args]


ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def server_log(workspace: Path) -> str:
    return (workspace.parent / "serve.log").read_text()[-3000:]
