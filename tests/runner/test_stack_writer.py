"""A stack's commits off the critical path (hyperlab.runner.stack_writer): epochs committed in one
transaction per batch and before their checkpoints, outcomes after them, a lost claim answered with
Prune(LOST), a writer's error raised in the training thread; and the stack's checkpoint policy."""

from __future__ import annotations

import pytest
import torch
from runner_helpers import without_timing

import hyperlab
from hyperlab.engine import RunSettings
from hyperlab.engine.book import Prune
from hyperlab.engine.checkpoint import load_checkpoint
from hyperlab.engine.result import TrialResult
from hyperlab.runner import VectorizedExecutor, run_study
from hyperlab.runner.events import ListSink
from hyperlab.runner.lifecycle import LOST, ClaimedTrial
from hyperlab.runner.stack_writer import StackWriter
from hyperlab.runner.task import RunContext
from hyperlab.store import Owner, Store
from hyperlab.vectorized import train_group


def claimed(tmp_path, write_study, n=2):
    """A workspace holding a registered study, `n` of its trials claimed by this process, started."""
    study = hyperlab.Study.load(write_study(seeds=n, epochs=3))
    plan = study.plan()
    from hyperlab.runner import register

    store = Store.open(tmp_path / "ws")
    store.register_study(register.study_row(study.spec, plan), register.variant_rows(plan),
                         register.trial_rows(plan))
    events = ListSink()
    ctx = RunContext(store=store, owner=Owner.current(), events=events, should_stop=lambda: False)
    tasks = register.tasks(plan)[:n]
    trials = []
    for task in tasks:
        assert store.claim(task.key, ctx.owner)
        trial = ClaimedTrial(task, ctx, stacked=n)
        trial.start()
        trials.append(trial)
    return store, ctx, events, trials


def record(epoch):
    return {"epoch": epoch, "train_loss": 1.0 / epoch, "val_loss": 2.0 / epoch, "seconds": 0.1}


def test_epochs_checkpoints_and_outcomes_are_written_in_the_order_handed_over(tmp_path, write_study):
    store, ctx, events, trials = claimed(tmp_path, write_study)
    writer = StackWriter(ctx, trials)
    for epoch in (1, 2):
        for i in range(2):
            assert writer.on_epoch(i, record(epoch)) is None
        for i, trial in enumerate(trials):
            writer.checkpoint(trial.workdir, {"model/w": torch.full((2,), float(epoch))},
                              {"epoch": epoch, "index": i})
    for i in range(2):
        writer.finish(i, TrialResult(status="completed", stop_reason="completed 2 epochs",
                                     epochs=[record(1), record(2)], final={"test_loss": 0.5}, seconds=1.0))
    writer.close()
    assert all(trial.ended for trial in trials)
    kinds = [(e["event"], e.get("epoch")) for e in events.events if e["event"] in ("epoch", "trial_finished")]
    assert kinds == [("epoch", 1), ("epoch", 1), ("epoch", 2), ("epoch", 2),
                     ("trial_finished", None), ("trial_finished", None)]
    for trial in trials:
        assert [r["epoch"] for r in store.epochs(trial.task.key)] == [1, 2]
        assert store.trial(trial.task.key)["status"] == "completed"
        tensors, document = load_checkpoint(trial.workdir)
        assert document["epoch"] == 2 and tensors["model/w"].tolist() == [2.0, 2.0]
        # the outcome lists the checkpoint that was on disk when it was stored
        assert {a["kind"] for a in store.artifacts(trial.task.key)} >= {"checkpoint", "checkpoint_state"}
    store.close()


def test_a_claim_taken_over_is_answered_with_a_prune_and_nothing_more_is_stored(tmp_path, write_study):
    store, ctx, events, trials = claimed(tmp_path, write_study)
    writer = StackWriter(ctx, trials)
    store.release(trials[1].task.key, ctx.owner, "interrupted")  # as another runner's takeover does
    assert store.claim(trials[1].task.key, Owner(host="elsewhere", pid=1, start="x"))
    writer.on_epoch(0, record(1))
    writer.on_epoch(1, record(1))
    writer.close()  # waits until the batch is committed
    assert writer.on_epoch(1, record(2)) == Prune(LOST)
    assert writer.on_epoch(0, record(2)) is None
    assert store.epochs(trials[1].task.key) == [] and len(store.epochs(trials[0].task.key)) == 1
    store.close()


def test_an_error_of_the_writer_is_raised_in_the_training_thread(tmp_path, write_study):
    store, ctx, events, trials = claimed(tmp_path, write_study, n=1)
    blocker = tmp_path / "a file, not a folder"
    blocker.write_text("x")
    writer = StackWriter(ctx, trials)
    writer.checkpoint(blocker / "trial", {"model/w": torch.zeros(1)}, {"epoch": 1})
    with pytest.raises(OSError):
        writer.close()
    with pytest.raises(OSError):  # and at any later hand-over
        writer.on_epoch(0, record(1))
    store.close()


@pytest.mark.parametrize(("every", "seconds", "written"), [(1, None, [1, 2, 3, 4, 5]), (2, None, [2, 4, 5]),
                                                          (None, None, [5])])
def test_a_stack_checkpoints_by_its_policy_and_always_at_a_trial_end(tmp_path, every, seconds, written):
    from hyperlab.data import DataConfig
    from hyperlab.engine import TrainConfig, TrialConfig

    config = TrialConfig(data=DataConfig(dataset="digits", subset=300), model={"kind": "mlp", "hidden": [8]},
                         train=TrainConfig(epochs=5, batch_size=64))
    seen: list[tuple[str, int]] = []

    def write(folder, tensors, document):
        seen.append((folder.name, document["epoch"]))

    train_group([config, config], [0, 1], workdirs=[tmp_path / "a", tmp_path / "b"],
                settings=RunSettings(device="cpu", checkpoint_every=every, checkpoint_seconds=seconds),
                checkpoint_writer=write)
    assert [epoch for name, epoch in seen if name == "a"] == written
    assert [epoch for name, epoch in seen if name == "b"] == written


def test_a_study_stacked_with_sparse_checkpoints_stores_what_one_with_all_of_them_does(write_study, tmp_path):
    study = hyperlab.Study.load(write_study(seeds=2, epochs=3))
    plan = study.plan()
    stored = {}
    for name, settings in (("every", RunSettings(checkpoint_every=1)),
                           ("sparse", RunSettings(checkpoint_every=None, checkpoint_seconds=None))):
        summary = run_study(study.spec, plan, workspace=tmp_path / name, settings=settings,
                            executor=VectorizedExecutor(), report=False)
        assert summary.exit_code == 0
        with Store.open(tmp_path / name) as store:
            stored[name] = {t.key: (without_timing(store.epochs(t.key)), store.final(t.key))
                            for t in plan.trials}
    assert stored["every"] == stored["sparse"]
