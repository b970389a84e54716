"""The store contract: every backend subclasses `StoreContract` and must pass all of it.

There is one backend (SQLite); a new one adds a `Test<Name>Store(StoreContract)` with `open_store`.
"""

from __future__ import annotations

import json
import math
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from hyperlab.errors import UserError
from hyperlab.store import LostClaimError, Owner, Store, StudyRow, TrialRow, VariantRow
from hyperlab.store.build_frames import EPOCH_BASE_COLUMNS, FINAL_BASE_COLUMNS, TRIAL_COLUMNS, VARIANT_COLUMNS


def study_rows(name: str = "s", levels: tuple[str, ...] = ("a", "b"), seeds: tuple[int, ...] = (0, 1)):
    """A small ablation: baseline + one factor with `levels`, every variant x every seed."""
    variants = [VariantRow("baseline", None, None, 0, params=100, macs=50, flops=100, train_flops=300)]
    variants += [VariantRow(f"f={lv}", "f", lv, i + 1, params=100 + i, macs=50, flops=100, train_flops=300)
                 for i, lv in enumerate(levels)]
    trials = [TrialRow(v.variant, seed, f"{v.variant}-{seed}", json.dumps({"v": v.variant}))
              for v in variants for seed in seeds]
    study = StudyRow(name=name, design="ablation", description="d", seeds=list(seeds),
                     spec={"name": name, "data": {"dataset": "digits", "validation": 0.1}})
    return study, variants, trials


def epoch_record(epoch: int, loss: float = 1.0) -> dict:
    return {"epoch": epoch, "train_loss": loss, "val_accuracy": 0.5 + epoch / 100, "seconds": 0.1}


HOLDER = textwrap.dedent("""
    import sys, time
    from hyperlab.store import Owner, Store
    store = Store.open(sys.argv[1])
    won = store.claim(sys.argv[2], Owner.current())
    print("won" if won else "lost", flush=True)
    time.sleep(60)
""")

RACER = textwrap.dedent("""
    import json, os, sys, time
    from hyperlab.store import Owner, Store
    store = Store.open(sys.argv[1])
    keys = json.loads(sys.argv[2])
    while not os.path.exists(sys.argv[3]):
        time.sleep(0.001)
    print(json.dumps([k for k in keys if store.claim(k, Owner.current())]), flush=True)
    sys.stdin.read()  # stay alive until every racer is done: a dead owner's claims are reclaimable
""")


class StoreContract:
    """The behaviour every store backend must have. Subclasses implement `open_store`."""

    def open_store(self, workspace: Path, create: bool = True) -> Store:
        raise NotImplementedError

    @pytest.fixture
    def store(self, tmp_path: Path) -> Store:
        store = self.open_store(tmp_path / "ws")
        yield store
        store.close()

    def registered(self, store: Store, **kwargs) -> tuple:
        rows = study_rows(**kwargs)
        store.register_study(*rows)
        return rows

    # --- workspace ------------------------------------------------------------------------------
    def test_open_missing_workspace_without_create_is_a_user_error(self, tmp_path):
        with pytest.raises(UserError, match="not a hyperlab workspace"):
            self.open_store(tmp_path / "nothing", create=False)

    def test_reopen_sees_committed_data(self, store, tmp_path):
        self.registered(store)
        again = self.open_store(tmp_path / "ws", create=False)
        assert again.study("s")["seeds"] == [0, 1]
        again.close()

    # --- registration ---------------------------------------------------------------------------
    def test_register_creates_pending_trials_and_keeps_known_ones(self, store):
        _, _, trials = self.registered(store)
        owner = Owner.current()
        assert store.claim(trials[0].key, owner)
        store.finish_trial(trials[0].key, owner, status="completed", final={"test_accuracy": 0.9})
        _, _, more = self.registered(store, levels=("a", "b", "c"))
        statuses = store.trial_statuses(t.key for t in more)
        assert statuses[trials[0].key] == "completed"
        assert sorted(set(statuses.values())) == ["completed", "pending"]
        assert len(statuses) == len(more) == 8

    def test_trial_statuses_omits_unknown_keys(self, store):
        _, _, trials = self.registered(store)
        assert store.trial_statuses([trials[0].key, "nope"]) == {trials[0].key: "pending"}
        assert store.trial_statuses([]) == {}

    def test_two_studies_share_a_trial_with_the_same_key(self, store):
        _, _, trials = self.registered(store, name="one")
        self.registered(store, name="two", levels=("a",))
        owner = Owner.current()
        assert store.claim(trials[0].key, owner)
        store.record_epoch(trials[0].key, owner, epoch_record(1))
        store.finish_trial(trials[0].key, owner, status="completed", final={"test_accuracy": 0.9})
        for name in ("one", "two"):
            frames = store.frames(name)
            row = frames.trials.set_index("trial_key").loc[trials[0].key]
            assert row["status"] == "completed"
            assert len(frames.epochs[frames.epochs.trial_key == trials[0].key]) == 1

    # --- placements (where a remote executor trains a trial) -------------------------------------
    def test_a_placement_is_the_owners_to_record_and_status_shows_it_while_running(self, store):
        from hyperlab.runner.status import PlacedTrial, status_frame

        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.placement(key) is None
        with pytest.raises(LostClaimError):  # only the trial's owner says where it trains
            store.record_placement(key, owner, "node-a")
        assert store.claim(key, owner)
        store.record_placement(key, owner, "node-a")
        store.record_placement(key, owner, "node-b")  # resubmitted elsewhere after a lost node
        store.record_epoch(key, owner, epoch_record(1))
        assert store.placement(key) == "node-b"
        variants, placed = [], [PlacedTrial("v", 0, key, 3)]
        frame = status_frame(store, variants, placed)
        assert "on node node-b" in " ".join(frame.running_epochs)
        store.finish_trial(key, owner, status="completed", final={"test_accuracy": 0.9})
        frame = status_frame(store, variants, placed)
        assert "node" not in " ".join(frame.running_epochs)  # only running trials say where
        store.reset_trials([key])
        assert store.placement(key) is None

    # --- epochs ---------------------------------------------------------------------------------
    def test_record_epoch_upserts_on_trial_and_epoch(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        store.record_epoch(key, owner, epoch_record(1, loss=2.0))
        store.record_epoch(key, owner, epoch_record(2, loss=1.5))
        store.record_epoch(key, owner, epoch_record(1, loss=1.9))  # a resumed run repeating epoch 1
        assert [r["epoch"] for r in store.epochs(key)] == [1, 2]
        assert store.epochs(key)[0]["train_loss"] == 1.9

    def test_finish_upserts_every_epoch_once(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        store.record_epoch(key, owner, epoch_record(1))
        records = [epoch_record(e) for e in (1, 2, 3)]
        store.finish_trial(key, owner, status="completed", epochs=records, final={"test_loss": 0.1})
        assert store.epochs(key) == records

    def test_nan_metrics_round_trip(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        store.record_epoch(key, owner, epoch_record(1, loss=float("nan")))
        store.finish_trial(key, owner, status="diverged", stop_reason="loss is NaN", seconds=float("nan"))
        assert math.isnan(store.epochs(key)[0]["train_loss"])
        assert store.trial(key)["status"] == "diverged"
        assert store.trial(key)["seconds"] is None

    def test_writes_require_the_claim(self, store):
        from hyperlab.store import LostClaimError

        _, _, trials = self.registered(store)
        key = trials[0].key
        stranger = Owner("elsewhere", 1, "1")
        with pytest.raises(LostClaimError):
            store.record_epoch(key, stranger, epoch_record(1))
        assert store.claim(key, Owner.current())
        with pytest.raises(LostClaimError):
            store.finish_trial(key, stranger, status="completed")
        assert store.epochs(key) == []
        assert store.trial(key)["status"] == "running"

    # --- claims ---------------------------------------------------------------------------------
    def test_claim_is_exclusive_while_the_owner_lives(self, store):
        _, _, trials = self.registered(store)
        key = trials[0].key
        assert store.claim(key, Owner.current())
        assert not store.claim(key, Owner.current())
        assert store.trial(key)["attempts"] == 1

    def test_concurrent_processes_each_win_disjoint_claims(self, store, tmp_path):
        _, _, trials = self.registered(store, levels=tuple("abcdefgh"))
        keys = [t.key for t in trials]
        go = tmp_path / "go"
        command = [sys.executable, "-c", RACER, str(store.workspace), json.dumps(keys), str(go)]
        procs = [subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
                 for _ in range(4)]
        time.sleep(1.0)  # let every racer import and open the store before the start signal
        go.touch()
        won = [json.loads(p.stdout.readline()) for p in procs]  # all claims made, every racer alive
        for p in procs:
            p.communicate(timeout=60)  # closes stdin: the racers exit
        assert all(p.returncode == 0 for p in procs)
        flat = [k for w in won for k in w]
        assert sorted(flat) == sorted(keys)  # every key claimed exactly once, across processes
        assert {store.trial(k)["attempts"] for k in keys} == {1}

    def test_dead_owner_on_this_host_is_reclaimed(self, store):
        _, _, trials = self.registered(store)
        key = trials[0].key
        holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(store.workspace), key],
                                  stdout=subprocess.PIPE, text=True)
        try:
            assert holder.stdout.readline().strip() == "won"
            assert not store.claim(key, Owner.current())  # alive: not ours to take
            os.kill(holder.pid, signal.SIGKILL)
            holder.wait(timeout=10)
        finally:
            holder.kill()
        row = store.trial(key)
        assert row["status"] == "running" and Owner.parse(row["owner"]).pid == holder.pid
        assert store.is_dead(row)
        assert store.claim(key, Owner.current())
        assert store.trial(key)["attempts"] == 2
        assert store.trial(key)["owner"] == str(Owner.current())

    def test_recycled_pid_is_not_the_owner(self, store):
        _, _, trials = self.registered(store)
        me = Owner.current()
        impostor = Owner(me.host, me.pid, "0")  # same pid, another start time: the pid was reused
        assert store.claim(trials[0].key, impostor)
        assert store.is_dead(store.trial(trials[0].key))
        assert store.claim(trials[0].key, me)

    def test_owner_on_another_host_is_dead_only_after_its_heartbeat_goes_stale(self, store):
        _, _, trials = self.registered(store)
        key = trials[0].key
        remote = Owner("another-host", 4242, "17")
        assert store.claim(key, remote)
        assert not store.claim(key, Owner.current(), stale_after=3600)
        time.sleep(0.05)
        assert store.claim(key, Owner.current(), stale_after=0.01)

    def test_released_trial_is_claimable_again(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        assert store.release(key, owner, "interrupted")
        assert store.trial(key)["status"] == "interrupted"
        assert store.claim(key, owner)
        assert store.trial(key)["attempts"] == 2

    def test_finished_trials_are_not_claimable_until_reset(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        store.record_epoch(key, owner, epoch_record(1))
        store.finish_trial(key, owner, status="failed", error="boom", final=None)
        assert not store.claim(key, owner)
        store.reset_trials([key])
        row = store.trial(key)
        assert (row["status"], row["attempts"], row["error"]) == ("pending", 0, None)
        assert store.epochs(key) == []
        assert store.claim(key, owner)

    # --- transactions ---------------------------------------------------------------------------
    def test_failed_registration_writes_nothing(self, store):
        study, variants, trials = study_rows()
        trials.append(TrialRow("f=a", 0, "dup-of-a-0", "{}"))  # (study, variant, seed) already taken
        with pytest.raises(Exception, match="UNIQUE"):
            store.register_study(study, variants, trials)
        assert store.study("s") is None
        assert store.study_names() == []
        assert store.trial_statuses(t.key for t in trials) == {}

    def test_failed_finish_writes_nothing(self, store):
        _, _, trials = self.registered(store)
        key, owner = trials[0].key, Owner.current()
        assert store.claim(key, owner)
        broken_artifact = {"kind": "checkpoint", "path": "x"}  # no sha256: fails after the status update
        with pytest.raises(KeyError):
            store.finish_trial(key, owner, status="completed", epochs=[epoch_record(1)],
                               final={"test_accuracy": 1.0}, artifacts=[broken_artifact])
        assert store.trial(key)["status"] == "running"
        assert store.epochs(key) == [] and store.final(key) is None and store.artifacts(key) == []

    # --- frames ---------------------------------------------------------------------------------
    def test_frames_have_the_contract_columns(self, store):
        _, _, trials = self.registered(store)
        owner = Owner.current()
        key = trials[2].key  # f=a, seed 0
        assert store.claim(key, owner)
        store.record_epoch(key, owner, epoch_record(1))
        final = {"test_accuracy": 0.75, "per_class_test": [0.5, 1.0], "confusion_test": [[1, 1], [0, 2]]}
        store.finish_trial(key, owner, status="completed", epochs=[epoch_record(1), epoch_record(2)],
                           final=final, seconds=1.5, best_epoch=2, params=101,
                           artifacts=[{"kind": "checkpoint", "path": "p", "sha256": "0" * 64, "bytes": 3}])
        frames = store.frames("s")
        # the finals' test metrics are columns of the trials table too (issue 29), before `config`
        assert list(frames.trials.columns) == TRIAL_COLUMNS[:-1] + ["test_accuracy", "config"]
        assert frames.trials.set_index("trial_key").loc[key, "test_accuracy"] == 0.75
        assert frames.trials.test_accuracy.isna().sum() == len(frames.trials) - 1
        assert list(frames.variants.columns) == VARIANT_COLUMNS
        assert list(frames.epochs.columns) == EPOCH_BASE_COLUMNS + ["train_loss", "val_accuracy", "seconds"]
        assert list(frames.finals.columns) == FINAL_BASE_COLUMNS + list(final)
        assert list(frames.variants.variant) == ["baseline", "f=a", "f=b"]
        assert list(frames.trials.variant) == ["baseline", "baseline", "f=a", "f=a", "f=b", "f=b"]
        assert list(frames.trials.is_baseline) == [True, True, False, False, False, False]
        row = frames.trials.set_index("trial_key").loc[key]
        assert (row["status"], row["best_epoch"], row["params"], row["seconds"]) == ("completed", 2, 101, 1.5)
        assert frames.finals.iloc[0]["confusion_test"] == [[1, 1], [0, 2]]
        assert list(frames.epochs.epoch) == [1, 2]
        assert frames.study["name"] == "s" and frames.study["seeds"] == [0, 1]
        assert frames.study["running"] is True and frames.study["validation_is_test"] is False
        assert frames.study["data"] == {"dataset": "digits", "validation": 0.1}

    def test_frames_of_an_untrained_study_have_the_columns_and_no_rows(self, store):
        self.registered(store)
        frames = store.frames("s")
        assert list(frames.epochs.columns) == EPOCH_BASE_COLUMNS and frames.epochs.empty
        assert list(frames.finals.columns) == FINAL_BASE_COLUMNS and frames.finals.empty
        assert len(frames.trials) == 6

    def test_frames_of_an_unknown_study_is_a_user_error(self, store):
        with pytest.raises(UserError, match="no study named 'x'"):
            store.frames("x")


class TestSQLiteStore(StoreContract):
    def open_store(self, workspace: Path, create: bool = True) -> Store:
        return Store.open(workspace, create=create)

    def test_database_is_in_wal_mode_with_a_busy_timeout(self, store):
        conn = store._conn
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert conn.execute("PRAGMA busy_timeout").fetchone()[0] > 0
        assert (store.workspace / "hyperlab.db").exists() and store.artifacts_dir.is_dir()

    def test_workspace_from_environment(self, tmp_path, monkeypatch):
        from hyperlab.store import resolve_workspace

        monkeypatch.setenv("HYPERLAB_WORKSPACE", str(tmp_path / "env-ws"))
        assert resolve_workspace(None) == tmp_path / "env-ws"
        assert resolve_workspace(tmp_path / "flag") == tmp_path / "flag"
        monkeypatch.delenv("HYPERLAB_WORKSPACE")
        assert resolve_workspace(None) == Path("hyperlab-runs")

    def test_a_schema_3_database_is_read_as_it_is_and_upgraded_by_the_next_writer(self, tmp_path):
        import sqlite3

        store = self.open_store(tmp_path / "ws")
        _, _, trials = self.registered(store)
        owner = Owner.current()
        assert store.claim(trials[0].key, owner)
        store.finish_trial(trials[0].key, owner, status="completed", epochs=[epoch_record(1)], final={},
                           numerics=[{"from_epoch": 1, "numerics": {"device": "cpu"}, "text": "cpu x"}])
        store.close()
        db = sqlite3.connect(tmp_path / "ws" / "hyperlab.db")  # what hyperlab wrote before numerics
        db.executescript("ALTER TABLE trials DROP COLUMN numerics; PRAGMA user_version = 3;")
        db.close()
        with Store.open(tmp_path / "ws", readonly=True) as old:
            frames = old.frames("s")
            assert list(frames.trials.columns) == TRIAL_COLUMNS
            assert set(frames.trials["numerics"]) == {""}
            assert frames.trials["numerics_changed_at"].isna().all()
        with self.open_store(tmp_path / "ws") as upgraded:
            assert upgraded._conn.execute("PRAGMA user_version").fetchone()[0] == 4
            assert upgraded.claim(trials[1].key, owner)
            mixed = [{"from_epoch": 1, "numerics": {}, "text": "cpu a"}, {"from_epoch": 3, "numerics": {},
                                                                          "text": "cpu b"}]
            upgraded.finish_trial(trials[1].key, owner, status="completed", epochs=[epoch_record(1)],
                                  final={}, numerics=mixed)
            row = upgraded.frames("s").trials.set_index("trial_key").loc[trials[1].key]
            assert row["numerics"] == "cpu a (epochs 1-2); cpu b (from epoch 3)"
            assert row["numerics_changed_at"] == 3
