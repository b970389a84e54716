"""Helpers of the report tests, in a module of their own: `from conftest import` is ambiguous once
several test folders have a conftest.py and pytest collects more than one of them."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from hyperlab_cli import ONE_THREAD, hyperlab_subprocess

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-logging=stderr", "--v=0", "--window-size=1200,3000", "--hide-scrollbars"]

def moons_study(name: str, *, epochs: int, loss: str = "") -> str:
    """A study on 2-D points (two moons, 160 of them): an MLP 16-16 and the learning rate at 0.01;
    `loss` is an extra [train] line (e.g. `loss = { name = "bce" }`)."""
    return f"""
name = "{name}"
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
epochs = {epochs}
batch_size = 16
optimizer = {{ name = "sgd", lr = 0.1, momentum = 0.9 }}
{loss}

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.01]
"""


def hyperlab(*args: str, cwd: Path | None = None, timeout: float = 240) -> subprocess.CompletedProcess:
    """The real CLI in a subprocess (one torch thread: the test machine is shared)."""
    return hyperlab_subprocess(*args, cwd=cwd, timeout=timeout, env=ONE_THREAD)


def load_in_chromium(page: Path, screenshot: Path, profile: Path) -> list[str]:
    """Open `page` in headless Chromium, save a screenshot, and return the console lines it logged."""
    if not CHROMIUM.exists():
        if os.environ.get("HYPERLAB_REQUIRE_BROWSER"):  # CI installs it: a missing browser is a failure
            pytest.fail(f"{CHROMIUM} is not installed and HYPERLAB_REQUIRE_BROWSER is set")
        pytest.skip(f"{CHROMIUM} is not installed (Debian: apt-get install chromium)")
    proc = subprocess.run(
        [str(CHROMIUM), *CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--screenshot={screenshot}",
         page.resolve().as_uri()], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr[-2000:]
    return [line for line in proc.stderr.splitlines() if ":CONSOLE" in line or "Uncaught" in line]
