"""Fixtures of the fault-injection suite: a seeded random source whose seed is printed on failure
(`HYPERLAB_FAULT_SEED=N` replays a failure), and the reference numbers of an undisturbed run."""

from __future__ import annotations

import os
import random
from pathlib import Path

import pytest
from campaign import Reference


@pytest.fixture
def rng(request: pytest.FixtureRequest) -> random.Random:
    seed = int(os.environ.get("HYPERLAB_FAULT_SEED") or random.SystemRandom().randrange(2**32))
    request.node.add_report_section("call", "fault seed", f"HYPERLAB_FAULT_SEED={seed} replays this test")
    return random.Random(seed)


@pytest.fixture(scope="session")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Reference:
    """One undisturbed run per test session: pytest-xdist's processes share it (their temporary
    folders are siblings, and they share a run id), so it is trained once, not once per process."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if run_id:
        return Reference(tmp_path_factory.getbasetemp().parent / f"faults-reference-{run_id[:12]}")
    return Reference(Path(tmp_path_factory.mktemp("faults-reference")))
