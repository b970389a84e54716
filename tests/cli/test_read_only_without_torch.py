"""Commands that only read the store never import torch (issue 29): each runs in a subprocess whose
PYTHONPATH starts with a `torch` package that raises on import, over a workspace a real run made."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest
from cli_helpers import cli

RAISING_TORCH = 'raise ImportError("torch must not be imported by a read-only command")\n'


@pytest.fixture(scope="module")
def no_torch(tmp_path_factory) -> dict[str, str]:
    """Environment whose first import path holds a `torch` that raises on import."""
    folder = tmp_path_factory.mktemp("no-torch")
    (folder / "torch").mkdir()
    (folder / "torch" / "__init__.py").write_text(RAISING_TORCH)
    path = os.pathsep.join(filter(None, [str(folder), os.environ.get("PYTHONPATH")]))
    return {"PYTHONPATH": path}


def test_the_raising_torch_is_what_python_imports(no_torch):
    proc = subprocess.run([sys.executable, "-c", "import torch"], capture_output=True, text=True,
                          env={**os.environ, **no_torch})
    assert proc.returncode != 0 and "must not be imported" in proc.stderr


@pytest.mark.parametrize("args", [
    ("status", "{study}"), ("status", "tiny"), ("status", "tiny", "--json"),
    ("results", "{study}", "--table", "finals", "--out", "-"), ("results", "tiny", "--out", "{out}"),
    ("studies",), ("compare", "tiny", "tiny"), ("compare", "{study}", "tiny"),
    ("report", "tiny", "--out", "{out}"), ("report", "{study}", "--out", "{out}"),
], ids=lambda args: " ".join(args))
def test_read_only_command_runs_without_torch(trained, no_torch, tmp_path, args):
    study, workspace = trained
    filled = [a.format(study=study, out=tmp_path / "out") for a in args]
    proc = cli(*filled, "--workspace", str(workspace), env=no_torch)
    assert proc.returncode == 0, proc.stderr
    assert "torch" not in proc.stderr


def test_status_of_a_study_file_without_torch_counts_the_stored_trials(trained, no_torch):
    study, workspace = trained
    proc = cli("status", str(study), "--json", "--workspace", str(workspace), env=no_torch)
    assert proc.returncode == 0, proc.stderr
    rows = json.loads(proc.stdout)
    assert sum(r["done"] for r in rows) == 4 and sum(r["pending"] for r in rows) == 0


def test_serve_answers_without_torch(trained, no_torch):
    _, workspace = trained
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"} | no_torch
    proc = subprocess.Popen([sys.executable, "-m", "hyperlab", "serve", "--workspace", str(workspace),
                             "--port", str(port)], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, env=env)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/study/tiny", timeout=5) as r:
                    state = json.loads(r.read())
                break
            except (urllib.error.URLError, ConnectionError):
                assert proc.poll() is None, proc.stdout.read()
                assert time.monotonic() < deadline, "hyperlab serve did not answer"
                time.sleep(0.2)
        assert state["name"] == "tiny" and state["counts"]["done"] == 4
    finally:
        proc.terminate()
        proc.wait(timeout=30)

