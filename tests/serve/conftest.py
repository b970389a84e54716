"""Fixtures for the dashboard tests: real studies in a real workspace, `hyperlab serve` as a subprocess."""

from __future__ import annotations

import os
import subprocess
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import (
    CHROMIUM,
    CHROMIUM_ARGS,
    COMPARED_STUDY,
    ENV,
    LIVE_STUDY,
    free_port,
    hyperlab_cmd,
    server_log,
)

from hyperlab.api import Study


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
