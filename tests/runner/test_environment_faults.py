"""Failures that are not the trial's never become a stored outcome: a reader that goes away
(`run --jsonl | head -1`) ends the run with the trials resumable; a device the machine lacks is a
user error before anything is stored; `status` tells diverged trials (a result) from failed ones."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
import torch
from runner_helpers import cli_env, run_cli

import hyperlab
from hyperlab.store import Store

LONG = {"seeds": 1, "epochs": 40, "levels": (0.1,), "subset": 400, "hidden": (64,)}


@pytest.mark.parametrize("flags", [[], ["--no-vectorize"]], ids=["stacked", "one-by-one"])
def test_a_closed_output_pipe_ends_the_run_and_leaves_no_failed_trial(write_study, tmp_path, flags):
    path = write_study(**LONG)
    workspace = tmp_path / "ws"
    command = " ".join([sys.executable, "-m", "hyperlab", "run", str(path), "--workspace", str(workspace),
                        "--jsonl", "--no-report", "--threads", "1", *flags])
    shell = subprocess.run(["bash", "-c", f"{command} | head -1; echo \"rc=${{PIPESTATUS[0]}}\""],
                           capture_output=True, text=True, timeout=240, env=cli_env())
    first, rc = shell.stdout.splitlines()
    assert json.loads(first)["event"] == "run_started"
    assert rc == "rc=141", shell.stderr
    assert "Traceback" not in shell.stderr and "output closed" in shell.stderr
    keys = sorted({t.key for t in hyperlab.Study.load(path).plan().trials})
    with Store.open(workspace) as store:
        statuses = store.trial_statuses(keys)
    assert "failed" not in statuses.values() and "running" not in statuses.values(), statuses
    assert set(statuses.values()) != {"completed"}  # stopped early, not run to the end

    again = run_cli("run", str(path), "--workspace", str(workspace), "--no-report", "--threads", "1", *flags)
    assert again.returncode == 0, again.stderr
    with Store.open(workspace) as store:
        assert set(store.trial_statuses(keys).values()) == {"completed"}  # no --retry-failed needed


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks a machine without CUDA")
@pytest.mark.parametrize("how", ["flag", "study file"])
def test_cuda_without_cuda_is_exit_2_in_one_line_and_stores_nothing(write_study, tmp_path, how):
    path = write_study(extra='device = "cuda"' if how == "study file" else "")
    workspace = tmp_path / "ws"
    flags = ["--device", "cuda"] if how == "flag" else []
    proc = run_cli("run", str(path), "--workspace", str(workspace), "--no-report", *flags)
    assert proc.returncode == 2
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "cuda" in lines[0] and "no CUDA device" in lines[0], proc.stderr
    assert not (workspace / "hyperlab.db").exists()


def test_status_counts_diverged_trials_apart_from_failed_ones(write_study, tmp_path):
    path = write_study(seeds=1, epochs=3, levels=(1e6,))  # lr 1e6: the level diverges
    workspace = tmp_path / "ws"
    ran = run_cli("run", str(path), "--workspace", str(workspace), "--no-report", "--quiet", "--threads", "1")
    assert ran.returncode == 0, ran.stderr
    status = run_cli("status", str(path), "--workspace", str(workspace), "--json")
    assert status.returncode == 0, status.stderr
    rows = {r["variant"]: r for r in json.loads(status.stdout)}
    assert rows["lr=1000000.0"]["diverged"] == 1 and rows["lr=1000000.0"]["failed"] == 0
    assert rows["baseline"]["done"] == 1 and rows["baseline"]["diverged"] == 0
    text = run_cli("status", str(path), "--workspace", str(workspace)).stdout
    assert "0 failed, 1 diverged" in text
