"""Checkpoints: written after every evaluated epoch, pickle-free, and a resumed trial ends with
exactly the numbers of an uninterrupted one."""

from __future__ import annotations

import json

import pytest
from engine_helpers import metrics_only, mlp, train_config
from safetensors.torch import load_file

from hyperlab.engine import fit

# Every piece of state a resume must restore: Adam moments and step counts, a per-batch schedule,
# dropout (global RNG), augmentation (its own generator), the data order, early-stopping bookkeeping.
FULL = {"epochs": 4, "optimizer": {"name": "adam", "lr": 0.01}, "schedule": "cosine",
        "augment": {"hflip": True, "crop_padding": 1}, "early_stopping": {"patience": 3}}


def stop_after(epochs: int, calls: list[dict]):
    return lambda: len(calls) >= epochs


def test_resuming_after_an_interruption_gives_exactly_the_straight_run(digit_images, tmp_path):
    cfg = train_config(**FULL)
    straight = fit(mlp(dropout=0.3), digit_images, cfg, seed=4)

    calls: list[dict] = []
    first = fit(mlp(dropout=0.3), digit_images, cfg, seed=4, workdir=tmp_path, on_epoch=calls.append,
                should_stop=stop_after(2, calls))
    assert first.status == "interrupted" and first.stop_reason == "interrupted after epoch 2"
    assert [r["epoch"] for r in first.epochs] == [1, 2] and first.final == {}

    # A fresh process would build a fresh model: its initial weights are replaced by the checkpoint's.
    resumed = fit(mlp(seed=99, dropout=0.3), digit_images, cfg, seed=4, workdir=tmp_path,
                  on_epoch=calls.append)
    assert resumed.status == "completed"
    assert resumed.final == straight.final
    assert metrics_only(resumed.epochs) == metrics_only(straight.epochs)
    assert [r["epoch"] for r in calls] == [1, 2, 3, 4]  # each epoch reported once across both calls
    assert resumed.seconds >= first.seconds


def test_checkpoint_files_are_safetensors_and_json_only(digits, tmp_path):
    calls: list[dict] = []
    fit(mlp(), digits, train_config(**{**FULL, "augment": None}), seed=0, workdir=tmp_path,
        on_epoch=calls.append, should_stop=stop_after(1, calls))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["checkpoint.json", "checkpoint.safetensors"]
    state = json.loads((tmp_path / "checkpoint.json").read_text())
    assert state["epoch"] == 1 and state["history"] == calls
    tensors = load_file(tmp_path / "checkpoint.safetensors")
    assert {"model/1.weight", "best/1.weight", "rng/torch", "rng/data_order"} <= tensors.keys()
    assert any(k.startswith("optim/") and k.endswith("/exp_avg") for k in tensors)


def test_on_epoch_runs_before_the_epochs_checkpoint_is_written(digits, tmp_path):
    seen = []

    def on_epoch(record):
        path = tmp_path / "checkpoint.json"
        seen.append(json.loads(path.read_text())["epoch"] if path.exists() else None)

    fit(mlp(), digits, train_config(epochs=3), seed=0, workdir=tmp_path, on_epoch=on_epoch)
    assert seen == [None, 1, 2]


def test_interrupting_between_unevaluated_epochs_still_checkpoints_and_resumes_exactly(digits, tmp_path):
    cfg = train_config(epochs=4, eval_every=2)
    straight = fit(mlp(), digits, cfg, seed=1)
    polls = iter([False, True])  # before epoch 1: go on; before epoch 2: stop
    first = fit(mlp(), digits, cfg, seed=1, workdir=tmp_path, should_stop=lambda: next(polls))
    assert first.status == "interrupted" and first.epochs == []
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 1
    resumed = fit(mlp(), digits, cfg, seed=1, workdir=tmp_path)
    assert metrics_only(resumed.epochs) == metrics_only(straight.epochs)
    assert resumed.final == straight.final


def test_a_finished_trial_called_again_reports_the_same_result_without_training(digits, tmp_path):
    cfg = train_config(epochs=30, optimizer={"name": "sgd", "lr": 0.3, "momentum": 0.9},
                       early_stopping={"patience": 1, "min_delta": 0.005})
    done = fit(mlp(), digits, cfg, seed=0, workdir=tmp_path)
    assert done.status == "early_stopped"
    calls: list[dict] = []
    again = fit(mlp(), digits, cfg, seed=0, workdir=tmp_path, on_epoch=calls.append)
    assert calls == []
    assert (again.status, again.stop_reason, again.best_epoch) == (done.status, done.stop_reason,
                                                                   done.best_epoch)
    assert again.final == done.final


def test_a_checkpoint_of_another_trial_is_ignored(digits, tmp_path):
    cfg = train_config(epochs=2)
    calls: list[dict] = []
    fit(mlp(), digits, cfg, seed=0, workdir=tmp_path, on_epoch=calls.append, should_stop=stop_after(1, calls))
    with pytest.warns(UserWarning, match="another trial"):
        other_seed = fit(mlp(), digits, cfg, seed=1, workdir=tmp_path)
    assert metrics_only(other_seed.epochs) == metrics_only(fit(mlp(), digits, cfg, seed=1).epochs)


def test_a_torn_checkpoint_pair_is_not_resumed(digits, tmp_path):
    """A crash between the two renames leaves files of different epochs: start over, never mix them."""
    cfg = train_config(epochs=2)
    calls: list[dict] = []
    fit(mlp(), digits, cfg, seed=0, workdir=tmp_path, on_epoch=calls.append, should_stop=stop_after(1, calls))
    state_path = tmp_path / "checkpoint.json"
    state = json.loads(state_path.read_text())
    state["token"] = "0" * 32
    state_path.write_text(json.dumps(state))
    restarted = fit(mlp(), digits, cfg, seed=0, workdir=tmp_path, on_epoch=calls.append)
    assert [r["epoch"] for r in calls] == [1, 1, 2]
    assert metrics_only(restarted.epochs) == metrics_only(fit(mlp(), digits, cfg, seed=0).epochs)


def test_an_on_epoch_answer_of_prune_ends_the_trial_pruned_after_its_checkpoint(digits, tmp_path):
    from hyperlab.engine import Prune

    seen: list[int] = []

    def judge(record):
        seen.append(record["epoch"])
        return Prune("val_loss 0.5 (median pruner)") if record["epoch"] == 2 else None

    pruned = fit(mlp(), digits, train_config(epochs=4), seed=1, workdir=tmp_path, on_epoch=judge)
    assert pruned.status == "pruned"
    assert pruned.stop_reason == "pruned at epoch 2: val_loss 0.5 (median pruner)"
    assert seen == [1, 2] and [r["epoch"] for r in pruned.epochs] == [1, 2] and pruned.final == {}
    assert pruned.best_epoch in (1, 2) and pruned.params == 64 * 32 + 32 + 32 * 10 + 10
    assert json.loads((tmp_path / "checkpoint.json").read_text())["epoch"] == 2  # resumable as any other
    straight = fit(mlp(), digits, train_config(epochs=4), seed=1)
    assert metrics_only(pruned.epochs) == metrics_only(straight.epochs[:2])


def test_a_generator_state_of_another_device_is_not_set_and_warns():
    import torch

    from hyperlab.engine.determinism import restore_generator

    generator = torch.Generator().manual_seed(3)
    before = generator.get_state()
    foreign = torch.zeros(16, dtype=torch.uint8)  # the size of a CUDA generator's state
    with pytest.warns(RuntimeWarning, match="augmentation generator belongs to another device"):
        restore_generator(generator, foreign, "augmentation")
    assert torch.equal(generator.get_state(), before)
