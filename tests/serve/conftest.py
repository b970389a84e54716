"""Fixtures for the dashboard tests: real studies in a real workspace, `hyperlab serve` as a subprocess."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from serve_helpers import CHROMIUM, CHROMIUM_ARGS, QUICKSTART, serving, tiny

from hyperlab.api import Study


def _trained(ws: Path, name: str, width: int, seeds: str, report: bool) -> None:
    study = Study.load(QUICKSTART, tiny(name, width=width, seeds=seeds, epochs=4))
    study.run(ws, progress="quiet", report=report, threads=1)


@pytest.fixture(scope="package")
def workspace(tmp_path_factory) -> Path:
    """A workspace with two finished studies, `narrow` (with its report) and `wide`."""
    root = tmp_path_factory.mktemp("serve")
    ws = root / "ws"
    _trained(ws, "narrow", 16, "3", report=True)
    _trained(ws, "wide", 32, "3", report=False)
    return ws


@pytest.fixture(scope="package")
def other_workspace(tmp_path_factory) -> Path:
    """Another workspace: `wide` again, trained at seeds 3 to 5 (none shared with the first's 0 to 2)."""
    root = tmp_path_factory.mktemp("serve-other")
    ws = root / "ws"
    _trained(ws, "wide", 32, "[3, 4, 5]", report=False)
    return ws


@pytest.fixture(scope="package")
def server(workspace) -> Iterator[str]:
    """`hyperlab serve` over the workspace on a free loopback port; yields its base URL."""
    with serving(workspace) as url:
        yield url


@pytest.fixture(scope="package")
def compare_server(workspace, other_workspace) -> Iterator[str]:
    """`hyperlab serve --workspace WS --compare-workspace OTHER`."""
    with serving(workspace, "--compare-workspace", str(other_workspace)) as url:
        yield url


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
