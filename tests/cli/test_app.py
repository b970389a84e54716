"""The CLI's exit-code contract: 2 for user errors, one line, no traceback."""

from __future__ import annotations

import subprocess
import sys


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "hyperlab", *args], capture_output=True, text=True)


def test_unknown_command_is_a_user_error_without_traceback():
    proc = run_cli("no-such-command")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().count("\n") == 0
    assert "no-such-command" in proc.stderr


def test_help_exits_zero():
    proc = run_cli("--help")
    assert proc.returncode == 0
    assert "datasets" in proc.stdout
