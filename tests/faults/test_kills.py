"""Killed and interrupted runs: no trial is stored as failed, the rerun ends with the same numbers,
and Ctrl-C at any moment (even while workers still import) is one line and exit 130."""

from __future__ import annotations

from campaign import try_early_interrupt, try_kill_one, try_kill_workers


def test_a_killed_two_worker_run_leaves_no_failed_trial_and_resumes_to_the_same_numbers(rng, tmp_path,
                                                                                         reference):
    result = try_kill_workers(rng, tmp_path, reference, chain=1)  # (benchmarks/faults.py: chains of 1-3)
    assert result.clean, result.detail


def test_a_killed_one_process_run_resumes_to_the_same_numbers(rng, tmp_path, reference):
    result = try_kill_one(rng, tmp_path, reference, chain=1)
    assert result.clean, result.detail


def test_ctrl_c_in_the_first_seconds_is_one_line_and_exit_130(rng, tmp_path, reference):
    for _ in range(3):
        result = try_early_interrupt(rng, tmp_path, reference)
        assert result.clean, result.detail
