"""`hyperlab studies rm NAME` without --yes asks on a real terminal (a pseudo-terminal): "n" keeps the
study and its artifacts, "y" removes both."""

from __future__ import annotations

import os
import pty
import select
import shutil
import subprocess
import sys
import time
from pathlib import Path

from hyperlab.store import Store

PROMPT = b"[y/N]:"


def _answer(workspace: Path, name: str, answer: str) -> tuple[int, str]:
    """Run `hyperlab studies rm NAME` on a pseudo-terminal, type `answer` at its prompt; (rc, output)."""
    leader, follower = pty.openpty()
    env = {k: v for k, v in os.environ.items() if k != "HYPERLAB_WORKSPACE"}
    proc = subprocess.Popen([sys.executable, "-m", "hyperlab", "studies", "rm", name, "--workspace",
                             str(workspace)], stdin=follower, stdout=follower, stderr=follower, env=env)
    os.close(follower)
    seen, answered = b"", False
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([leader], [], [], 1.0)
            if ready:
                try:
                    chunk = os.read(leader, 4096)
                except OSError:  # the terminal closed: the command has exited
                    break
                if not chunk:
                    break
                seen += chunk
            if not answered and PROMPT in seen:
                os.write(leader, answer.encode() + b"\n")
                answered = True
            if proc.poll() is not None and not ready:
                break
        assert answered, f"no prompt within the deadline: {seen.decode(errors='replace')}"
        return proc.wait(timeout=60), seen.decode(errors="replace")
    finally:
        os.close(leader)
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _artifacts(workspace: Path, name: str) -> list[Path]:
    with Store.open(workspace, create=False, readonly=True) as store:
        return [store.trial_dir(t["key"]) for t in store.study_trials(name)]


def test_rm_asks_on_a_terminal_and_no_keeps_the_study(trained, tmp_path):
    _, workspace = trained
    copy = tmp_path / "ws"
    shutil.copytree(workspace, copy)
    folders = _artifacts(copy, "tiny")
    assert folders and all(f.is_dir() for f in folders)

    rc, out = _answer(copy, "tiny", "n")
    assert "Remove study 'tiny' (4 trials, 4 finished) and its artifacts" in out
    assert rc == 0 and "kept study 'tiny': nothing removed" in out
    with Store.open(copy, create=False, readonly=True) as store:
        assert store.study_names() == ["tiny"]
    assert all(f.is_dir() for f in folders)

    rc, out = _answer(copy, "tiny", "y")
    assert rc == 0 and "removed study 'tiny': 4 trials no other study uses" in out
    with Store.open(copy, create=False, readonly=True) as store:
        assert store.study_names() == []
    assert not any(f.exists() for f in folders)
