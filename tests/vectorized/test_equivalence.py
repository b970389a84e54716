"""K trials trained as one stack give each trial the numbers the engine gives it alone (fp32, CPU)."""

from __future__ import annotations

import pytest
import torch
from vectorized_helpers import CALM, CONVNET, MLP, assert_same_result, trial, with_model

from hyperlab.engine import Prune, train_trial
from hyperlab.engine.checkpoint import load_checkpoint
from hyperlab.vectorized import train_group


def alone(configs, seeds, splits, **kwargs):
    return [train_trial(c, s, splits=splits, **kwargs) for c, s in zip(configs, seeds, strict=True)]


def test_mlp_variants_of_one_seed_match_the_engine_trial_by_trial(digits):
    configs = [
        trial(),
        trial(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.0}),
        trial(optimizer={"name": "sgd", "lr": 0.02, "momentum": 0.5, "nesterov": True, "weight_decay": 1e-3}),
        trial(optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
        trial(with_model(MLP, dropout=0.3)),  # dropout after every hidden layer
        trial(with_model(MLP, dropout=[0.0, 0.2], l2={"output_kernel": 0.01, "output_bias": 0.01})),
        trial(with_model(MLP, init="glorot_uniform", l1={"hidden_kernel": 1e-4})),
        trial(loss={"name": "cross_entropy", "label_smoothing": 0.1}),
        trial(loss={"name": "categorical_cross_entropy"}, schedule={"name": "cosine"}, grad_clip=0.5),
        trial(epochs=2, schedule={"name": "step", "step_size": 1, "gamma": 0.5}),
        trial(early_stopping={"patience": 1, "min_delta": 10.0}),  # stops at epoch 2, keeps epoch 1
    ]
    seeds = [3] * len(configs)
    stacked = train_group(configs, seeds, splits=digits)
    for i, (mine, theirs) in enumerate(zip(stacked, alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")
    assert [r.status for r in stacked].count("early_stopped") == 1
    assert len(stacked[9].epochs) == 2 and len(stacked[0].epochs) == 3


def test_wide_hidden_layers_multiplied_weight_first_match_the_engine(digits):
    wide = with_model(MLP, hidden=[300, 256])  # 300 x 256 weights: the weight-first product
    configs = [trial(wide), trial(wide, optimizer={"name": "sgd", "lr": 0.01, "weight_decay": 1e-3}),
               trial(with_model(wide, dropout=0.2))]
    seeds = [2, 2, 5]  # trial 2 has its own batches: the hidden layers see stacked inputs either way
    for i, (mine, theirs) in enumerate(zip(train_group(configs, seeds, splits=digits),
                                           alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")


def test_convnet_variants_with_batch_norm_and_dropout_match_the_engine(digits):
    with_dropout = with_model(CONVNET, layers=[*CONVNET["layers"][:4], "dropout 0.1", *CONVNET["layers"][4:],
                                               "dropout 0.25"])
    configs = [trial(CONVNET, optimizer=CALM),
               trial(CONVNET, optimizer={"name": "sgd", "lr": 0.01, "weight_decay": 5e-4}),
               trial(with_dropout, optimizer=CALM),
               trial(with_model(CONVNET, init="he_normal"), optimizer=CALM)]
    seeds = [1] * len(configs)
    for i, (mine, theirs) in enumerate(zip(train_group(configs, seeds, splits=digits),
                                           alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")


def test_trials_with_different_activations_share_a_stack_and_match_the_engine(digits):
    # notebook 000's activation levels (linear, tanh with Glorot init) beside relu trials; sigmoid,
    # a dropout trial and one that stops early (leaves the stack: the mask follows the kept trials)
    configs = [trial(),
               trial(with_model(MLP, activation="linear", init="glorot_uniform")),
               trial(with_model(MLP, activation="tanh", init="glorot_uniform")),
               trial(with_model(MLP, activation="sigmoid", dropout=0.2),
                     optimizer={"name": "sgd", "lr": 0.1}),
               trial(with_model(MLP, activation="tanh"), epochs=2)]
    seeds = [4, 4, 4, 4, 9]  # the last trial has its own batches
    stacked = train_group(configs, seeds, splits=digits)
    for i, (mine, theirs) in enumerate(zip(stacked, alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")
    convnets = [trial(CONVNET, optimizer=CALM),
                trial(with_model(CONVNET, layers=[*CONVNET["layers"][:2], "tanh", *CONVNET["layers"][3:]]),
                      optimizer=CALM)]  # per-trial activation on the wide image layout
    for i, (mine, theirs) in enumerate(zip(train_group(convnets, [1, 1], splits=digits),
                                           alone(convnets, [1, 1], digits), strict=True)):
        assert_same_result(mine, theirs, f"convnet {i}")


def test_activations_without_an_own_backward_kernel_match_the_engine_in_and_out_of_line(digits):
    # gelu and elu have no kernel written into a slice: they run on their slice and take autograd's
    # gradient of a recomputation; elu's trials are contiguous in the stack (a view of the stack's
    # values), the leaky relu ones are not (gathered and scattered)
    configs = [trial(), trial(with_model(MLP, activation="gelu")), trial(with_model(MLP, activation="elu")),
               trial(with_model(MLP, activation="elu")), trial(with_model(MLP, activation="leaky_relu")),
               trial(), trial(with_model(MLP, activation="leaky_relu")), trial()]
    seeds = [6] * len(configs)
    for i, (mine, theirs) in enumerate(zip(train_group(configs, seeds, splits=digits),
                                           alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")


def test_trials_of_different_seeds_and_augmentations_each_see_their_own_batches(digits):
    flips = {"hflip": True, "crop_padding": 1}
    configs = [trial(), trial(augment=flips), trial(augment=flips), trial(epochs=2),
               trial(with_model(MLP, dropout=0.2), augment={"cutout": 3})]
    seeds = [0, 0, 1, 2, 0]
    for i, (mine, theirs) in enumerate(zip(train_group(configs, seeds, splits=digits),
                                           alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")


def test_convnets_with_their_own_batches_agree_to_grouped_convolution_rounding(digits):
    # Per-trial batches reach the first convolution as a grouped one, which rounds unlike the engine's
    # (1e-7 per step); this small convnet amplifies that to ~1e-4 in 3 epochs, so a looser bound here.
    configs = [trial(CONVNET, optimizer=CALM), trial(CONVNET, optimizer=CALM, augment={"hflip": True}),
               trial(CONVNET, optimizer=CALM, epochs=2)]
    seeds = [0, 0, 2]
    stacked = train_group(configs, seeds, splits=digits)
    for mine, theirs in zip(stacked, alone(configs, seeds, digits), strict=True):
        assert mine.status == theirs.status == "completed" and len(mine.epochs) == len(theirs.epochs)
        for a, b in zip(mine.epochs, theirs.epochs, strict=True):
            assert a["train_loss"] == pytest.approx(b["train_loss"], rel=2e-3)
            assert a["val_loss"] == pytest.approx(b["val_loss"], rel=2e-3)
            assert abs(a["train_accuracy"] - b["train_accuracy"]) * len(digits.x_train) <= 5
        assert mine.final["test_loss"] == pytest.approx(theirs.final["test_loss"], rel=2e-3)


def test_a_diverging_trial_leaves_the_stack_without_disturbing_the_others(digits):
    configs = [trial(), trial(optimizer={"name": "sgd", "lr": 1e4, "momentum": 0.9}),
               trial(with_model(MLP, dropout=0.2))]
    seeds = [0, 0, 0]
    finished: list[int] = []
    stacked = train_group(configs, seeds, splits=digits, on_result=lambda i, r: finished.append(i))
    assert stacked[1].status == "diverged" and stacked[1].final == {}
    assert finished == [1, 0, 2]  # the diverged trial leaves first, the others finish together
    for i, (mine, theirs) in enumerate(zip(stacked, alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")


def test_the_engine_resumes_a_stacked_trial_from_its_checkpoint(digits, tmp_path):
    configs = [trial(optimizer={"name": "sgd", "lr": 0.02, "momentum": 0.9}),
               trial(with_model(MLP, dropout=0.3), augment=None),
               trial(MLP, optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.0})]
    seeds = [4, 4, 4]
    workdirs = [tmp_path / f"t{i}" for i in range(len(configs))]
    epochs_seen: list[tuple[int, int]] = []
    polls = iter([False, False, True])  # stop after epoch 2, as a Ctrl-C would
    interrupted = train_group(configs, seeds, splits=digits, workdirs=workdirs,
                              on_epoch=lambda i, r: epochs_seen.append((i, r["epoch"])),
                              should_stop=lambda: next(polls))
    assert {r.status for r in interrupted} == {"interrupted"}
    assert sorted(epochs_seen) == [(i, e) for i in range(3) for e in (1, 2)]
    assert all(load_checkpoint(w)[1]["epoch"] == 2 for w in workdirs)
    resumed = [train_trial(c, s, splits=digits, workdir=w)
               for c, s, w in zip(configs, seeds, workdirs, strict=True)]
    # Killed in a stack and resumed one by one, a trial agrees with both its uninterrupted runs (alone
    # and stacked) within the suite's tolerance, not bit for bit: the bookkeeping is one (TrialBook),
    # the stacked kernels round differently (docs/performance.md, "Resuming").
    uninterrupted = train_group(configs, seeds, splits=digits)
    for i, (mine, theirs) in enumerate(zip(resumed, alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")
        assert_same_result(mine, uninterrupted[i], f"trial {i} vs its uninterrupted stack")
        assert [r["epoch"] for r in mine.epochs] == [1, 2, 3]


def test_bf16_stack_trains_close_to_the_engine(digits):
    configs = [trial(precision="bf16"), trial(precision="bf16", optimizer={"name": "sgd", "lr": 0.02})]
    stacked = train_group(configs, [0, 0], splits=digits)
    for mine, theirs in zip(stacked, alone(configs, [0, 0], digits), strict=True):
        assert mine.status == theirs.status == "completed"
        assert abs(mine.final["test_accuracy"] - theirs.final["test_accuracy"]) < 0.05
        assert torch.isfinite(torch.tensor(mine.epochs[-1]["train_loss"]))


def test_a_stacked_trials_time_is_its_share_of_the_stack(digits):
    """One definition of a trial's time everywhere: trained in a stack of K, a trial is charged 1/K
    of the stack's shared wall time (plus its own final evaluation), so the run's per-trial line, the
    store and the report agree and the trials' times add up to the stack's, not K times it."""
    import time

    configs = [trial(), trial(optimizer={"name": "sgd", "lr": 0.01, "momentum": 0.0}), trial(epochs=2)]
    started = time.perf_counter()
    stacked = train_group(configs, [0, 0, 0], splits=digits)
    wall = time.perf_counter() - started
    assert sum(r.seconds for r in stacked) <= wall
    for result in stacked:  # at least the epochs it was charged for
        assert result.seconds >= sum(r["seconds"] for r in result.epochs) * 0.999


def test_bce_trials_on_two_classes_match_the_engine():
    from hyperlab.data import DataConfig, make_splits
    from hyperlab.engine import TrialConfig

    moons = DataConfig(dataset="moons", n=240, noise=0.1, scale="none")
    splits = make_splits(moons)

    def bce(**train):
        settings = {"epochs": 3, "batch_size": 16, "loss": {"name": "bce"},
                    "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}, **train}
        return TrialConfig(data=moons, model={"kind": "mlp", "hidden": [16, 16]}, train=settings)

    configs = [bce(), bce(optimizer={"name": "sgd", "lr": 0.02}), bce(schedule={"name": "cosine"}),
               bce(grad_clip=0.5, early_stopping={"patience": 0, "min_delta": 10.0})]
    seeds = [4] * len(configs)
    stacked = train_group(configs, seeds, splits=splits)
    for i, (mine, theirs) in enumerate(zip(stacked, alone(configs, seeds, splits), strict=True)):
        assert_same_result(mine, theirs, f"bce trial {i}")
    assert stacked[0].epochs[-1]["train_accuracy"] > 0.7  # the logit > 0 rule, not an arg max of one column


@pytest.mark.parametrize("optimizer", [{"name": "adam", "lr": 0.01}, {"name": "adamw", "lr": 0.01}])
@pytest.mark.parametrize("schedule", [{"name": "constant"}, {"name": "cosine"},
                                      {"name": "step", "step_size": 1, "gamma": 0.5}])
def test_adam_and_adamw_stacks_match_the_engine_per_schedule(digits, optimizer, schedule):
    name = optimizer["name"]
    configs = [
        trial(optimizer=optimizer, schedule=schedule),
        trial(optimizer={"name": name, "lr": 0.003, "betas": [0.8, 0.99], "eps": 1e-6}, schedule=schedule),
        trial(optimizer={"name": name, "lr": 0.01, "weight_decay": 0.05}, schedule=schedule, grad_clip=1.0),
        trial(with_model(MLP, dropout=0.2), optimizer=optimizer, schedule=schedule,
              loss={"name": "cross_entropy", "label_smoothing": 0.1}),
        trial(optimizer=optimizer, schedule=schedule, early_stopping={"patience": 0, "min_delta": 10.0}),
    ]
    seeds = [5] * len(configs)
    for i, (mine, theirs) in enumerate(zip(train_group(configs, seeds, splits=digits),
                                           alone(configs, seeds, digits), strict=True)):
        assert_same_result(mine, theirs, f"{name} trial {i}")


def test_an_adam_trial_interrupted_in_a_stack_resumes_in_the_engine(digits, tmp_path):
    configs = [trial(optimizer={"name": "adam", "lr": 0.01}), trial(optimizer={"name": "adam", "lr": 0.003})]
    stops = iter([False, False, True])  # stop between epochs 1 and 2 (polled before each epoch)
    workdirs = [tmp_path / "a", tmp_path / "b"]
    first = train_group(configs, [1, 1], splits=digits, workdirs=workdirs, should_stop=lambda: next(stops))
    assert [r.status for r in first] == ["interrupted", "interrupted"]
    resumed = train_trial(configs[0], 1, splits=digits, workdir=workdirs[0])
    assert_same_result(resumed, train_trial(configs[0], 1, splits=digits), "resumed adam")
    assert load_checkpoint(workdirs[0])[1]["optimizer"]["param_groups"][0]["lr"] == 0.01


def test_a_trial_pruned_in_a_stack_reports_what_the_engine_reports_for_it(digits, tmp_path):
    """The per-trial stop hook: `on_epoch` answering Prune(why) stops that trial alone, in the stack
    exactly as in the engine (status, stop_reason, epochs, checkpoint); the others go on."""
    configs = [trial(), trial(optimizer={"name": "sgd", "lr": 0.01}), trial(with_model(MLP, dropout=0.2))]
    seeds = [6, 6, 6]

    def judge(index: int, record: dict) -> Prune | None:
        stop = (index, record["epoch"]) == (1, 2)
        return Prune("val_loss over the median (a test pruner)") if stop else None

    order: list[int] = []
    workdirs = [tmp_path / f"stack{i}" for i in range(3)]
    stacked = train_group(configs, seeds, splits=digits, workdirs=workdirs, on_epoch=judge,
                          on_result=lambda i, r: order.append(i))
    alone_dirs = [tmp_path / f"alone{i}" for i in range(3)]
    engine = [train_trial(c, s, splits=digits, workdir=w, on_epoch=lambda r, i=i: judge(i, r))
              for i, (c, s, w) in enumerate(zip(configs, seeds, alone_dirs, strict=True))]
    assert [r.status for r in stacked] == ["completed", "pruned", "completed"] and order == [1, 0, 2]
    assert stacked[1].stop_reason == "pruned at epoch 2: val_loss over the median (a test pruner)"
    for i, (mine, theirs) in enumerate(zip(stacked, engine, strict=True)):
        assert_same_result(mine, theirs, f"trial {i}")
    assert load_checkpoint(workdirs[1])[1]["epoch"] == load_checkpoint(alone_dirs[1])[1]["epoch"] == 2
    resumed = train_trial(configs[1], 6, splits=digits, workdir=workdirs[1])  # a pruned trial's checkpoint
    assert_same_result(resumed, train_trial(configs[1], 6, splits=digits), "resumed after pruning")
