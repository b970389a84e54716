"""A real `hyperlab run` killed mid-trial (SIGKILL) or interrupted (SIGINT), then run again."""

from __future__ import annotations

import signal

from runner_helpers import events_of, read_until, run_cli, start_cli, without_timing

import hyperlab
from hyperlab.store import Owner, Store

# Long enough per trial (~40 short epochs) that a kill after its first epoch lands mid-trial.
LONG = {"seeds": 1, "epochs": 40, "levels": (0.1,), "subset": 400, "hidden": (64,)}


def test_sigkill_mid_trial_then_rerun_ends_exactly_like_an_uninterrupted_run(write_study, tmp_path):
    path = write_study(**LONG)
    killed_ws, clean_ws = tmp_path / "killed", tmp_path / "clean"
    # One trial at a time (--no-vectorize) on both sides: a resumed trial continues in the engine,
    # and the engine and a stack agree to ~1e-7, not bit for bit (tests/vectorized covers that case
    # within its tolerance); here the claim is bit-identity.
    args = ["run", str(path), "--workspace", str(killed_ws), "--jsonl", "--threads", "1", "--no-report",
            "--no-vectorize"]

    proc = start_cli(*args)
    seen: list[dict] = []
    first = read_until(proc, lambda e: e["event"] == "epoch", seen)
    proc.kill()  # SIGKILL: no handler runs, the trial stays `running` under a dead owner
    proc.wait(timeout=30)
    with Store.open(killed_ws) as store:
        row = store.trial(first["key"])
        stored_before = [r["epoch"] for r in store.epochs(first["key"])]
        assert row["status"] == "running" and Owner.parse(row["owner"]).pid == proc.pid
        assert store.is_dead(row)
    assert stored_before and stored_before == list(range(1, len(stored_before) + 1))
    assert stored_before[-1] < LONG["epochs"]  # killed mid-trial

    rerun = run_cli(*args)
    assert rerun.returncode == 0, rerun.stderr
    events = events_of(rerun.stdout)
    resumed = next(e for e in events if e["event"] == "trial_started" and e["key"] == first["key"])
    assert resumed["resumed_from"] == stored_before[-1]
    resumed_epochs = [e["epoch"] for e in events if e["event"] == "epoch" and e["key"] == first["key"]]
    # Resumed from its checkpoint (the epoch stored last, or the one before if the kill fell between
    # the store's commit and the checkpoint), not from scratch.
    assert resumed_epochs[0] in (stored_before[-1], stored_before[-1] + 1)

    clean = hyperlab.Study.load(path).run(clean_ws, progress="quiet", report=False, threads=1,
                                          vectorize=False)
    assert clean.exit_code == 0
    with Store.open(killed_ws) as killed, Store.open(clean_ws) as reference:
        keys = sorted({t.key for t in hyperlab.Study.load(path).plan().trials})
        done = dict.fromkeys(keys, "completed")
        assert killed.trial_statuses(keys) == reference.trial_statuses(keys) == done
        n_trials = killed._conn.execute("SELECT COUNT(*) FROM trials").fetchone()[0]
        n_epochs = killed._conn.execute("SELECT COUNT(*) FROM epochs").fetchone()[0]
        assert n_trials == len(keys) and n_epochs == len(keys) * LONG["epochs"]  # nothing stored twice
        for key in keys:
            assert [r["epoch"] for r in killed.epochs(key)] == list(range(1, LONG["epochs"] + 1))
            assert without_timing(killed.epochs(key)) == without_timing(reference.epochs(key))
            assert killed.final(key) == reference.final(key)
            assert killed.trial(key)["best_epoch"] == reference.trial(key)["best_epoch"]
        assert killed.trial(first["key"])["attempts"] == 2


def test_sigint_stops_after_the_epoch_with_exit_130_and_the_next_run_resumes(write_study, tmp_path):
    path = write_study(**LONG)
    workspace = tmp_path / "ws"
    args = ["run", str(path), "--workspace", str(workspace), "--jsonl", "--threads", "1", "--no-report"]
    proc = start_cli(*args)
    seen: list[dict] = []
    first = read_until(proc, lambda e: e["event"] == "epoch", seen)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert "Traceback" not in err and "resume" in err
    events = seen + events_of(out)
    last_seen = max(e["epoch"] for e in events if e["event"] == "epoch" and e["key"] == first["key"])
    assert any(e["event"] == "trial_finished" and e["status"] == "interrupted" for e in events)
    assert events[-1]["event"] == "run_finished" and events[-1]["interrupted"] is True
    with Store.open(workspace) as store:
        assert store.trial(first["key"])["status"] == "interrupted"
        assert [r["epoch"] for r in store.epochs(first["key"])] == list(range(1, last_seen + 1))
        assert (store.trial_dir(first["key"]) / "checkpoint.safetensors").is_file()

    resumed = run_cli(*args)
    assert resumed.returncode == 0, resumed.stderr
    started = [e for e in events_of(resumed.stdout) if e["event"] == "trial_started"]
    assert started[0]["key"] == first["key"] and started[0]["resumed_from"] == last_seen
