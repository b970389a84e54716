"""Several runner processes on one workspace: every trial is trained exactly once."""

from __future__ import annotations

from collections import Counter

from runner_helpers import events_of, start_cli

import hyperlab
from hyperlab.store import Owner, Store

SHARED = {"seeds": 2, "epochs": 15, "levels": (0.1, 0.05), "subset": 300}


def assert_each_trial_trained_once(path, workspace, started: list[dict]) -> None:
    keys = {t.key for t in hyperlab.Study.load(path).plan().trials}
    assert Counter(e["key"] for e in started) == dict.fromkeys(keys, 1)
    with Store.open(workspace) as store:
        assert store.trial_statuses(keys) == dict.fromkeys(keys, "completed")
        assert {store.trial(k)["attempts"] for k in keys} == {1}
        for key in keys:
            assert [r["epoch"] for r in store.epochs(key)] == list(range(1, SHARED["epochs"] + 1))


def test_two_runs_on_one_workspace_share_the_trials(write_study, tmp_path):
    path = write_study(**SHARED)
    workspace = tmp_path / "ws"
    args = ["run", str(path), "--workspace", str(workspace), "--jsonl", "--threads", "1", "--no-report"]
    procs = [start_cli(*args), start_cli(*args)]
    outputs = [proc.communicate(timeout=240) for proc in procs]
    for proc, (_, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err
    streams = [events_of(out) for out, _ in outputs]
    started = [e for events in streams for e in events if e["event"] == "trial_started"]
    assert_each_trial_trained_once(path, workspace, started)
    for events in streams:  # each run waited for the other's trials: both end with the whole study
        assert events[-1]["event"] == "run_finished" and events[-1]["statuses"] == {"completed": 6}
    with Store.open(workspace) as store:
        owners = {Owner.parse(store.trial(e["key"])["owner"]).pid for e in started}
    assert owners <= {procs[0].pid, procs[1].pid}


def test_workers_option_runs_processes_that_share_the_trials(write_study, tmp_path):
    path = write_study(**SHARED)
    workspace = tmp_path / "ws"
    proc = start_cli("run", str(path), "--workspace", str(workspace), "--jsonl", "--workers", "2",
                     "--threads", "1", "--no-report")
    out, err = proc.communicate(timeout=240)
    assert proc.returncode == 0, err
    events = events_of(out)
    started = [e for e in events if e["event"] == "trial_started"]
    assert_each_trial_trained_once(path, workspace, started)
    assert {e["worker"] for e in started} <= {0, 1}
    # the workers stack compatible trials too: each seed's 3 variants train as one stack, since
    # worker i starts from its own share of the groups instead of splitting the other's
    assert [e.get("vectorized") for e in started] == [3] * 6
    with Store.open(workspace) as store:
        pids = {Owner.parse(store.trial(e["key"])["owner"]).pid for e in started}
    assert 1 <= len(pids) <= 2 and proc.pid not in pids  # trained by the worker processes
    assert events[-1]["event"] == "run_finished" and events[-1]["trained"] == {"completed": 6}
