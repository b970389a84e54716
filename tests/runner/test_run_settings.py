"""Run settings (workers, threads, device) are not part of a trial: a study killed under one set of
them resumes under another from its checkpoints, and ends with the numbers of an uninterrupted run."""

from __future__ import annotations

import math
import os
import signal
from pathlib import Path

from runner_helpers import events_of, read_until, run_cli, start_cli, without_timing

import hyperlab
from hyperlab.store import Store

LONG = {"seeds": 1, "epochs": 16, "levels": (0.1,), "subset": 400, "hidden": (64,)}
# Another thread count may sum a matrix product in another order: the same numbers up to float32
# rounding, not bit for bit (a run with the same threads is bit-identical: test_kill_resume.py).
TOLERANCE = 1e-5


def _close(a: object, b: object) -> bool:
    if isinstance(a, float) and isinstance(b, float):
        return math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return a == b


def _children(pid: int) -> list[int]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(p) for p in path.read_text().split()] if path.exists() else []


def test_a_sigkilled_run_resumes_under_other_workers_and_threads_from_its_checkpoints(write_study, tmp_path):
    path = write_study(**LONG)
    killed_ws, clean_ws = tmp_path / "killed", tmp_path / "clean"
    common = ["run", str(path), "--jsonl", "--no-report", "--no-vectorize"]
    proc = start_cli(*common, "--workspace", str(killed_ws), "--workers", "2", "--threads", "1")
    seen: list[dict] = []
    read_until(proc, lambda e: e["event"] == "epoch" and e["epoch"] >= 2, seen)
    for pid in _children(proc.pid):  # the whole run dies at once: no handler, no goodbye
        os.kill(pid, signal.SIGKILL)
    proc.kill()
    proc.wait(timeout=30)
    keys = sorted({t.key for t in hyperlab.Study.load(path).plan().trials})
    with Store.open(killed_ws) as store:
        stored_before = {key: len(store.epochs(key)) for key in keys}
        assert all(store.trial(key)["status"] != "failed" for key in keys)
    assert any(stored_before.values()) and all(n < LONG["epochs"] for n in stored_before.values())

    rerun = run_cli(*common, "--workspace", str(killed_ws), "--workers", "1", "--threads", "2")
    assert rerun.returncode == 0, rerun.stderr
    assert "starting over" not in rerun.stderr  # the checkpoints were recognised as this trial's
    events = events_of(rerun.stdout)
    for key in keys:
        retrained = [e["epoch"] for e in events if e["event"] == "epoch" and e["key"] == key]
        if stored_before[key]:
            started = next(e for e in events if e["event"] == "trial_started" and e["key"] == key)
            assert started["resumed_from"] == stored_before[key]
            # from its checkpoint: the epoch stored last (a kill between commit and checkpoint), or the next
            assert retrained[0] in (stored_before[key], stored_before[key] + 1), (key, retrained[:3])

    clean = hyperlab.Study.load(path).run(clean_ws, progress="quiet", report=False, threads=1,
                                          vectorize=False)
    assert clean.exit_code == 0
    with Store.open(killed_ws) as killed, Store.open(clean_ws) as reference:
        done = dict.fromkeys(keys, "completed")
        assert killed.trial_statuses(keys) == reference.trial_statuses(keys) == done
        for key in keys:
            assert [r["epoch"] for r in killed.epochs(key)] == list(range(1, LONG["epochs"] + 1))
            assert _close(without_timing(killed.epochs(key)), without_timing(reference.epochs(key)))
            assert _close(killed.final(key), reference.final(key))
