"""Fixtures for the dashboard tests: real studies in a real workspace, `hyperlab serve` as a subprocess."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from hyperlab.api import Study

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


@pytest.fixture(scope="package")
def workspace(tmp_path_factory) -> Path:
    """A workspace with two finished studies, `narrow` (with its report) and `wide`."""
    root = tmp_path_factory.mktemp("serve")
    ws = root / "ws"
    for name, width, report in (("narrow", 16, True), ("wide", 32, False)):
        path = root / f"{name}.toml"
        path.write_text(textwrap.dedent(COMPARED_STUDY.format(name=name, width=width)))
        Study.load(path).run(ws, progress="quiet", report=report, threads=1)
    (root / "live.toml").write_text(textwrap.dedent(LIVE_STUDY))
    return ws


@pytest.fixture(scope="package")
def server(workspace) -> Iterator[str]:
    """`hyperlab serve` over the workspace on a free loopback port; yields its base URL."""
    port = free_port()
    log = (workspace.parent / "serve.log").open("w")  # what the server logs: shown when a test fails
    proc = subprocess.Popen(hyperlab_cmd("serve", "--workspace", str(workspace), "--port", str(port)),
                            stdout=log, stderr=subprocess.STDOUT, text=True, env=ENV)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                urllib.request.urlopen(url + "/", timeout=5).close()
                break
            except (urllib.error.URLError, ConnectionError):
                if proc.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(f"hyperlab serve did not start (rc {proc.poll()}): "
                                f"{server_log(workspace)}")
                time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def server_log(workspace: Path) -> str:
    return (workspace.parent / "serve.log").read_text()[-3000:]


@pytest.fixture(scope="package")
def browser():
    """Debian's Chromium driven by Playwright (no browser download: the system binary)."""
    # .ci/run sets HYPERLAB_REQUIRE_BROWSER: there, a missing browser fails instead of skipping
    missing = pytest.fail if os.environ.get("HYPERLAB_REQUIRE_BROWSER") else pytest.skip
    try:
        from playwright import sync_api
    except ImportError:
        missing("playwright is not installed (pip install -e '.[dev]')")
    if not CHROMIUM.exists():
        missing(f"{CHROMIUM} is not installed (Debian: apt-get install chromium; .ci/run does)")
    with sync_api.sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()
