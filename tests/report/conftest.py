"""Shared fixtures for the report tests: hand-built frames, real tiny studies, headless Chromium."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

# The hand-built frames live beside the analysis tests; both test folders use them.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "analysis"))

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0", "--window-size=1200,3000", "--hide-scrollbars"]

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

TINY_2D_STUDY = """
name = "tiny-2d"
description = "Two-dimensional points: decision boundaries"
design = "ablation"
seeds = 1

[data]
dataset = "moons"
n = 160
noise = 0.1
scale = "none"

[model]
kind = "mlp"
hidden = [16, 16]

[train]
epochs = 8
batch_size = 16
optimizer = { name = "sgd", lr = 0.1, momentum = 0.9 }

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.01]
"""


def hyperlab(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (one torch thread: the test machine is shared)."""
    return subprocess.run([sys.executable, "-m", "hyperlab", *args], capture_output=True, text=True,
                          cwd=cwd, timeout=timeout, env={**os.environ, "OMP_NUM_THREADS": "1"})


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
    return _run_study(tmp_path_factory.mktemp("tiny2d"), TINY_2D_STUDY, "tiny-2d.toml")


def load_in_chromium(page: Path, screenshot: Path, profile: Path) -> list[str]:
    """Open `page` in headless Chromium, save a screenshot, and return the console lines it logged."""
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
    proc = subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
