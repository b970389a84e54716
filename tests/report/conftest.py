"""Shared fixtures for the report tests: hand-built frames, real tiny studies, headless Chromium."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest
from report_helpers import hyperlab, moons_study

# The hand-built frames live beside the analysis tests; both test folders use them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))

TINY_STUDY = """
name = "tiny"
description = "Tiny digits ablation: learning rate and width, 3 seeds"
design = "ablation"
seeds = 3

[data]
dataset = "digits"
subset = 240
validation = 0.25

[model]
kind = "mlp"
hidden = [32]
activation = "relu"

[train]
epochs = 4
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.005]

[[factor]]
name = "width"
path = "model.hidden"
levels = [[8]]
"""

def _run_study(root: Path, text: str, filename: str) -> tuple[Path, Path]:
    study = root / filename
    study.write_text(textwrap.dedent(text))
    workspace = root / "ws"
    proc = hyperlab("run", str(study), "--workspace", str(workspace), "--quiet", "--threads", "1",
                    "--no-report")
    assert proc.returncode == 0, proc.stderr
    return study, workspace


@pytest.fixture(scope="session")
def tiny_study(tmp_path_factory) -> tuple[Path, Path]:
    """(study file, workspace) of a real 3-seed, 2-factor digits study, trained by `hyperlab run`."""
    return _run_study(tmp_path_factory.mktemp("tiny"), TINY_STUDY, "tiny.toml")


@pytest.fixture(scope="session")
def tiny_2d_study(tmp_path_factory) -> tuple[Path, Path]:
    """(study file, workspace) of a real study on 2-D points, trained by `hyperlab run`."""
    return _run_study(tmp_path_factory.mktemp("tiny2d"), moons_study("tiny-2d", epochs=8), "tiny-2d.toml")
