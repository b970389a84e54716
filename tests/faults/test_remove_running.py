"""`hyperlab studies rm NAME --yes` while NAME runs: refused (exit 2, "NAME is running in PID ...;
stop it first"); with `--force` it is removed and the run ends with exit 2 in one line, storing
nothing more. On main, rm exited 0 and the run printed "lost" then "internal error: KeyError" (exit 1)."""

from __future__ import annotations

import json
import os
import signal
import sqlite3

import pytest
from campaign import cli, one_line, run_args, start


def _wait_for_an_epoch(proc) -> None:
    for line in proc.stdout:
        if json.loads(line).get("event") == "epoch":
            return
    raise AssertionError(f"the run ended before its first epoch: {proc.stderr.read()}")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("workers", ["1", "2"])
def test_rm_of_a_running_study_is_refused_and_forced_removal_ends_the_run_with_exit_2(workers, tmp_path,
                                                                                       reference):
    workspace = tmp_path / "ws"
    # 400 epochs: the run is still training whatever the machine's load when rm comes
    proc = start(*run_args(reference.write(), workspace, "--jsonl", "--workers", workers,
                           "--set", "train.epochs=400"))
    try:
        _wait_for_an_epoch(proc)
        refused = cli("studies", "rm", "faults", "--yes", "--workspace", str(workspace))
        assert refused.returncode == 2 and one_line(refused.stderr), refused.stderr
        # the processes holding its claims: the runner itself, or its workers
        assert "faults is running in PID " in refused.stderr and "; stop it first" in refused.stderr
        assert workers == "2" or f"PID {proc.pid};" in refused.stderr, refused.stderr

        forced = cli("studies", "rm", "faults", "--yes", "--force", "--workspace", str(workspace))
        assert forced.returncode == 0, forced.stderr
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 2 and one_line(err), (proc.returncode, err)
    assert "removed" in err and "studies rm --force" in err, err
    with sqlite3.connect(f"file:{workspace / 'hyperlab.db'}?mode=ro", uri=True) as db:
        left = {table: db.execute(f"SELECT COUNT(*) FROM {table}").fetchone()[0]  # noqa: S608
                for table in ("studies", "trials", "epochs", "results", "artifacts")}
    assert set(left.values()) == {0}, left  # nothing stored half: no row of it survives
    trials = workspace / "trials"
    assert not trials.exists() or not list(trials.iterdir()), list(trials.iterdir())
