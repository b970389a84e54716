"""The one lifecycle of a claimed trial (hyperlab.runner.lifecycle), whichever executor trains it:
the prune hook stops a trial in a stack exactly as one by one, a heartbeat thread whose store fails
ends quietly, and an environment fault leaves the trial `interrupted` (resumable), not `pending`."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import threading

import pytest
from runner_helpers import cli_env, events_of, without_timing

import hyperlab
from hyperlab.faults import RunFault
from hyperlab.runner import LocalExecutor, VectorizedExecutor, run_study
from hyperlab.runner.events import ListSink
from hyperlab.runner.lifecycle import Heartbeat
from hyperlab.runner.task import RunContext
from hyperlab.store import Owner, Store


def close(a, b) -> bool:
    """Equal, floats within the stack's rounding (tests/vectorized: 1e-5 relative)."""
    if isinstance(a, dict):
        return a.keys() == b.keys() and all(close(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, float) and isinstance(b, float):
        return abs(a - b) <= 1e-5 * max(abs(b), 1e-9)
    return a == b


def test_a_trial_pruned_in_a_stack_is_stored_as_one_pruned_one_by_one(write_study, tmp_path):
    study = hyperlab.Study.load(write_study(seeds=1, epochs=4, levels=(0.1, 0.05)))
    plan = study.plan()
    keys = sorted({t.key for t in plan.trials})
    pruned_key = next(t.key for t in plan.trials if t.variant == "lr=0.1")

    def prune(task, record):  # what a search's pruner answers after each stored epoch
        stop = task.key == pruned_key and record["epoch"] == 2
        return "val_loss above the median (test pruner)" if stop else None

    def with_prune(executor_class):
        class Pruning(executor_class):
            def run(self, trials, ctx):
                ctx.prune = prune
                super().run(trials, ctx)
        return Pruning()

    stored = {}
    for name, executor in (("stacked", with_prune(VectorizedExecutor)), ("alone", with_prune(LocalExecutor))):
        events = ListSink()
        summary = run_study(study.spec, plan, workspace=tmp_path / name, executor=executor, events=events,
                            report=False)
        assert summary.exit_code == 0 and summary.statuses == {"completed": 2, "pruned": 1}, name
        started = [e.get("vectorized", 1) for e in events.events if e["event"] == "trial_started"]
        assert started == ([3, 3, 3] if name == "stacked" else [1, 1, 1])
        finished = {e["key"]: e["status"] for e in events.events if e["event"] == "trial_finished"}
        assert finished[pruned_key] == "pruned"
        with Store.open(tmp_path / name) as store:
            stored[name] = {key: ({k: store.trial(key)[k] for k in ("status", "stop_reason", "best_epoch",
                                                                    "params")},
                                  without_timing(store.epochs(key)), store.final(key)) for key in keys}
    row, epochs, final = stored["stacked"][pruned_key]
    assert row["status"] == "pruned"
    assert row["stop_reason"] == "pruned at epoch 2: val_loss above the median (test pruner)"
    assert [r["epoch"] for r in epochs] == [1, 2] and not final
    assert close(stored["stacked"], stored["alone"])


def test_a_heartbeat_whose_store_cannot_be_opened_ends_without_a_traceback(tmp_path, monkeypatch):
    workspace = tmp_path / "ws"
    reported: list[threading.ExceptHookArgs] = []
    monkeypatch.setattr(threading, "excepthook", reported.append)  # where a thread's traceback goes
    with Store.open(workspace) as store:
        ctx = RunContext(store=store, owner=Owner.current(), events=ListSink(), should_stop=lambda: False,
                         heartbeat_every=0.01)
        damaged = workspace / "damaged.db"
        damaged.write_bytes(b"not a database " * 512)
        os.replace(damaged, workspace / "hyperlab.db")  # this connection keeps the old files open
        for name in ("hyperlab.db-wal", "hyperlab.db-shm"):
            (workspace / name).unlink()
        with pytest.raises(RunFault, match="damaged"):  # what the heartbeat thread will meet
            Store.open(workspace, create=False)
        heartbeat = Heartbeat(ctx, ["0123456789abcdef"])
        heartbeat._thread.join(timeout=60)  # it ends by itself: its store cannot be opened
        assert not heartbeat._thread.is_alive()
        heartbeat.stop()
    assert reported == []


def can_mount() -> bool:
    """Whether `unshare -r -m` gives a private mount namespace to mount a small tmpfs in."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "-r", "-m", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"],
                           capture_output=True)
    return probe.returncode == 0


@pytest.mark.skipif(not can_mount(), reason="needs a private mount namespace (unshare -r -m)")
@pytest.mark.parametrize("flags", [["--no-vectorize"], []], ids=["one-by-one", "stacked"])
def test_a_full_disk_leaves_the_trial_interrupted_at_its_epoch_and_the_rerun_resumes_it(write_study, tmp_path,
                                                                                      flags):
    # 165 kB checkpoints on a 256 kB tmpfs: the first fits, the next one (or the stack's second) does not.
    path = write_study(seeds=1, epochs=3, levels=(0.1,), hidden=(256,))
    workspace = tmp_path / "ws"
    (workspace / "artifacts").mkdir(parents=True)
    hyperlab_cli = f"{sys.executable} -m hyperlab"
    run = f"{hyperlab_cli} run {path} --workspace {workspace} --no-report --threads 1 {' '.join(flags)}"
    script = f"""
mount -t tmpfs -o size=256k tmpfs {workspace}/artifacts
{run} --quiet 2> {tmp_path}/full.err; echo $? > {tmp_path}/full.rc
{hyperlab_cli} status {path} --workspace {workspace} > {tmp_path}/status.out 2>&1
cp {workspace}/hyperlab.db {tmp_path}/after-fault.db
mount -o remount,size=64m {workspace}/artifacts
{run} --jsonl > {tmp_path}/again.out 2> {tmp_path}/again.err; echo $? > {tmp_path}/again.rc
"""
    subprocess.run(["unshare", "-r", "-m", "bash", "-c", script], capture_output=True, text=True, timeout=300,
                   env=cli_env(), check=True)
    err = (tmp_path / "full.err").read_text()
    assert (tmp_path / "full.rc").read_text().strip() == "2", err
    assert len(err.strip().splitlines()) == 1 and "space" in err and "Traceback" not in err
    (tmp_path / "copy").mkdir()
    shutil.copy(tmp_path / "after-fault.db", tmp_path / "copy" / "hyperlab.db")
    keys = sorted({t.key for t in hyperlab.Study.load(path).plan().trials})
    with Store.open(tmp_path / "copy", readonly=True) as store:
        trained = {key: store.epochs(key)[-1]["epoch"] for key in keys if store.epochs(key)}
        statuses = store.trial_statuses(list(trained))
    assert trained and set(statuses.values()) == {"interrupted"}, statuses  # never `pending`, never failed
    status = (tmp_path / "status.out").read_text()
    assert all(f"interrupted at epoch {epoch}, resumes there" in status for epoch in trained.values()), status
    assert (tmp_path / "again.rc").read_text().strip() == "0", (tmp_path / "again.err").read_text()
    started = [e for e in events_of((tmp_path / "again.out").read_text()) if e["event"] == "trial_started"]
    assert {e["key"]: e["resumed_from"] for e in started if e["key"] in trained} == trained  # not from 0
