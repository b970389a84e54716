"""Suite-wide setup: which device the tests train on (tests/devices.py says how it is chosen)."""

from __future__ import annotations

import os

if os.environ.get("HYPERLAB_TEST_DEVICE", "").strip().lower() == "cpu":
    # before torch starts CUDA: `device = "auto"` in every trial, subprocess and worker means the CPU
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

import devices  # noqa: E402  (tests/ is on sys.path: pytest's rootdir conftest)


def pytest_report_header(config) -> str:
    return f"hyperlab test device: {devices.DEVICE} (HYPERLAB_TEST_DEVICE={devices.REQUESTED or 'unset'})"
