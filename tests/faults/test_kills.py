"""Killed and interrupted runs: no trial is stored as failed, the rerun ends with the same numbers,
and Ctrl-C at any moment (even while workers still import) is one line and exit 130."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

from campaign import (
    env,
    one_line,
    outcome_faults,
    run_args,
    try_early_interrupt,
    try_kill_one,
    try_kill_workers,
)


def test_a_killed_two_worker_run_leaves_no_failed_trial_and_resumes_to_the_same_numbers(rng, tmp_path,
                                                                                         reference):
    # Killed while both workers are in a trial, so both would outlive a parent they do not die with
    # and meet its closed pipe (before the fix: `failed: BrokenPipeError`, 5 of 30 campaign kills);
    # benchmarks/faults.py kills at any point.
    result = try_kill_workers(rng, tmp_path, reference, chain=1, busy_workers=True)
    assert result.clean, result.detail


def test_a_killed_one_process_run_resumes_to_the_same_numbers(rng, tmp_path, reference):
    result = try_kill_one(rng, tmp_path, reference, chain=1)
    assert result.clean, result.detail


def test_ctrl_c_in_the_first_seconds_is_one_line_and_exit_130(rng, tmp_path, reference):
    for _ in range(3):  # (before the fix, 7 of 12 such tries printed a traceback)
        result = try_early_interrupt(rng, tmp_path, reference)
        assert result.clean, result.detail


SLOW_WORKER = '''
import os, sys, time

class SlowWorkerImport:
    """Holds `python -m hyperlab.runner.worker` in the interpreter's startup (importing the module,
    before any of its code runs), long enough for the parent to forward a Ctrl-C there."""

    def find_spec(self, name, path=None, target=None):
        if name == "hyperlab.runner.worker":
            open(os.path.join(os.environ["SLOW_WORKER_MARKS"], str(os.getpid())), "w").close()
            time.sleep(30)
        return None

if os.environ.get("SLOW_WORKER_MARKS"):
    sys.meta_path.insert(0, SlowWorkerImport())
'''


def test_ctrl_c_forwarded_to_a_starting_worker_is_an_interrupt_not_an_internal_error(tmp_path, reference):
    """A worker reached by the forwarded SIGINT before it can catch it (Python is still starting it)
    dies of the signal (exit -2). It had claimed nothing: the run is interrupted (130, one line), not
    broken (the campaign found exit 1, "worker 0 exited with code -2", under load)."""
    hooks, marks = tmp_path / "hooks", tmp_path / "marks"
    hooks.mkdir()
    marks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_WORKER)
    environment = {**env(), "PYTHONPATH": str(hooks), "SLOW_WORKER_MARKS": str(marks)}
    workspace = tmp_path / "ws"
    proc = subprocess.Popen([sys.executable, "-m", "hyperlab", *run_args(reference.write(), workspace,
                                                                          "--workers", "2", "--jsonl")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environment,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(list(marks.iterdir())) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(list(marks.iterdir())) == 2, "the workers never started"
        proc.send_signal(signal.SIGTERM)  # as `kill` sends it; the runner forwards SIGINT to its workers
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130 and one_line(err), (proc.returncode, err)
    assert not outcome_faults(workspace)
