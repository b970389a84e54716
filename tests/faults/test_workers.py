"""`--workers N` starts no more workers than there are trials to train and cores (and says so once),
and a worker still starting (importing torch) dies with its parent. On main, `--workers 1000` on a
4-trial study started 140+ workers, then "internal error: can't start new thread" (exit 1); after a
SIGKILL of the parent, 51 workers still importing ran on for 20 s."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from campaign import env, run_args

import hyperlab
from hyperlab.runner.workers import available_cores


def test_workers_are_capped_at_the_trials_to_train_and_the_cores():
    from hyperlab.runner.workers import capped_workers

    cores = available_cores()
    assert capped_workers(1000, 2) == (min(2, cores), f"--workers 1000: starting {min(2, cores)} "
                                                      f"(2 trials to train, {cores} cores)")
    assert capped_workers(1000, None)[0] == cores  # a search: its trials are proposed as it goes
    assert capped_workers(1, 5) == (1, None)
    assert capped_workers(8, 0) == (8, None)  # nothing to train: no worker starts, nothing to say


@pytest.mark.timeout(600)
def test_a_thousand_workers_on_a_small_study_run_it_with_a_few_and_say_so_once(tmp_path, reference):
    study = hyperlab.Study.load(reference.write())
    summary = study.run(tmp_path / "ws", workers=1000, threads=1, progress="events", report=False,
                        vectorize=False)
    assert summary.exit_code == 0 and summary.statuses == {"completed": 4}, summary
    started = next(e for e in summary.events if e["event"] == "run_started")
    assert started["workers"] == min(4, available_cores())
    notes = [e["message"] for e in summary.events if e["event"] == "note"]
    assert notes == [f"--workers 1000: starting {started['workers']} (4 trials to train, "
                     f"{available_cores()} cores)"], notes
    trained_by = {e.get("worker") for e in summary.events if e["event"] == "epoch"}
    assert trained_by <= set(range(started["workers"]))


SLOW_WORKER = '''
import os, sys, time

class SlowWorkerImport:
    """Holds the worker in its start-up (importing hyperlab.runner.worker) for 60 s, its pid marked."""

    def find_spec(self, name, path=None, target=None):
        if name == "hyperlab.runner.worker":
            open(os.path.join(os.environ["SLOW_WORKER_MARKS"], str(os.getpid())), "w").close()
            time.sleep(60)
        return None

if os.environ.get("SLOW_WORKER_MARKS"):
    sys.meta_path.insert(0, SlowWorkerImport())
'''


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError):
        return False
    return state not in ("Z", "X")  # a zombie is dead, only not yet reaped by its new parent


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_workers_still_starting_die_with_their_sigkilled_parent(tmp_path, reference):
    hooks, marks = tmp_path / "hooks", tmp_path / "marks"
    hooks.mkdir()
    marks.mkdir()
    (hooks / "sitecustomize.py").write_text(SLOW_WORKER)
    path = os.pathsep.join(p for p in (str(hooks), os.environ.get("PYTHONPATH")) if p)
    environment = {**env(), "PYTHONPATH": path, "SLOW_WORKER_MARKS": str(marks)}
    proc = subprocess.Popen([sys.executable, "-m", "hyperlab", *run_args(reference.write(), tmp_path / "ws",
                                                                          "--workers", "2", "--jsonl")],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=environment,
                            start_new_session=True)
    workers: list[int] = []
    try:
        deadline = time.monotonic() + 240
        while len(list(marks.iterdir())) < 2 and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = [int(p.name) for p in marks.iterdir()]
        assert len(workers) == 2, "the workers never started"
        os.kill(proc.pid, signal.SIGKILL)  # the parent only: the workers are in sessions of their own
        proc.wait()
        deadline = time.monotonic() + 10  # main: they slept out their 60 s, imported, and only then left
        while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
            time.sleep(0.1)
        assert not [pid for pid in workers if _alive(pid)], "workers outlived their SIGKILLed parent"
    finally:
        for pid in workers:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
