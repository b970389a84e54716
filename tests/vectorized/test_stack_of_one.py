"""A trial's arithmetic does not depend on what it is stacked with: each trial of a stack of K gets
exactly, bit for bit, the numbers a stack of one gives it (the path one-by-one training takes), per
optimizer x loss x schedule, with dropout, penalties, mixed activations, clipping and convolutions."""

from __future__ import annotations

import pytest
from vectorized_helpers import CALM, CONVNET, MLP, trial, with_model

from hyperlab.engine import TIMING_KEYS
from hyperlab.vectorized import train_group, train_one

OPTIMIZERS = [{"name": "sgd", "lr": 0.05, "momentum": 0.9}, {"name": "adam", "lr": 0.01},
              {"name": "adamw", "lr": 0.01, "weight_decay": 0.05}]
LOSSES = [{"name": "cross_entropy"}, {"name": "cross_entropy", "label_smoothing": 0.1}, {"name": "nll"},
          {"name": "categorical_cross_entropy"}]
SCHEDULES = [{"name": "constant"}, {"name": "cosine"}, {"name": "step", "step_size": 1, "gamma": 0.5}]


def numbers(result) -> tuple:
    """Everything a trial reports except timings, for exact comparison."""
    epochs = [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in result.epochs]
    return result.status, result.stop_reason, result.best_epoch, epochs, result.final


def assert_alone_equals_stacked(configs, seeds, splits) -> None:
    stacked = train_group(configs, seeds, splits=splits)
    for i, (config, seed) in enumerate(zip(configs, seeds, strict=True)):
        (alone,) = train_group([config], [seed], splits=splits)
        assert numbers(stacked[i]) == numbers(alone), f"trial {i} of {len(configs)}"


@pytest.mark.parametrize("optimizer", OPTIMIZERS, ids=lambda o: o["name"])
@pytest.mark.parametrize("loss", LOSSES, ids=lambda o: o["name"] + ("_ls" if "label_smoothing" in o else ""))
@pytest.mark.parametrize("schedule", SCHEDULES, ids=lambda o: o["name"])
def test_a_stack_of_k_gives_each_trial_what_a_stack_of_one_gives_it(digits, optimizer, loss, schedule):
    lr = optimizer["lr"]
    configs = [
        trial(optimizer=optimizer, loss=loss, schedule=schedule, epochs=2),
        trial(optimizer={**optimizer, "lr": lr / 3}, loss=loss, schedule=schedule, epochs=2, grad_clip=0.5),
        trial(with_model(MLP, dropout=0.2, activation="tanh", l2={"output_kernel": 0.01}),
              optimizer=optimizer, loss=loss, schedule=schedule, epochs=2),
    ]
    assert_alone_equals_stacked(configs, [3, 3, 3], digits)


def test_mixed_activations_penalties_and_early_stopping_are_stacking_invariant(digits):
    configs = [
        trial(),
        trial(optimizer={"name": "sgd", "lr": 0.02, "momentum": 0.5, "nesterov": True, "weight_decay": 1e-3}),
        trial(optimizer={"name": "sgd", "lr": 0.05, "momentum": 0.9, "dampening": 0.3}),
        trial(with_model(MLP, dropout=[0.0, 0.2], l2={"output_kernel": 0.01, "output_bias": 0.01})),
        trial(with_model(MLP, init="glorot_uniform", l1={"hidden_kernel": 1e-4}, activation="sigmoid")),
        trial(with_model(MLP, activation="linear")),
        trial(early_stopping={"patience": 1, "min_delta": 10.0}),
    ]
    assert_alone_equals_stacked(configs, [0] * len(configs), digits)


def test_trials_of_different_seeds_in_one_stack_get_their_stack_of_one_numbers(digits):
    configs = [trial(), trial(), trial(with_model(MLP, dropout=0.2), augment={"cutout": 3})]
    assert_alone_equals_stacked(configs, [0, 1, 2], digits)


def test_convnets_are_stacking_invariant(digits):
    with_dropout = with_model(CONVNET, layers=[*CONVNET["layers"][:4], "dropout 0.1", *CONVNET["layers"][4:]])
    configs = [trial(CONVNET, optimizer=CALM, epochs=2), trial(with_dropout, optimizer=CALM, epochs=2),
               trial(CONVNET, optimizer={**CALM, "lr": 0.02}, epochs=2, augment={"hflip": True})]
    assert_alone_equals_stacked(configs, [0, 0, 0], digits)
    assert_alone_equals_stacked(configs, [0, 1, 0], digits)


def stop_after(epochs: int):
    """A should_stop that stops a stack once it has trained `epochs` epochs (polled before each)."""
    polls = []

    def should_stop() -> bool:
        polls.append(1)
        return len(polls) > epochs

    return should_stop


@pytest.mark.parametrize("optimizer", OPTIMIZERS[:2], ids=lambda o: o["name"])
def test_a_stacked_trial_resumes_alone_or_in_another_stack_bit_for_bit(digits, tmp_path, optimizer):
    configs = [trial(optimizer=optimizer, epochs=3),
               trial(with_model(MLP, dropout=0.2), optimizer=optimizer, epochs=3, augment={"cutout": 3}),
               trial(optimizer={**optimizer, "lr": optimizer["lr"] / 2}, epochs=3, grad_clip=0.5,
                     schedule={"name": "cosine"})]
    seeds = [6, 6, 6]
    straight = train_group(configs, seeds, splits=digits)
    workdirs = [tmp_path / str(i) for i in range(3)]
    interrupted = train_group(configs, seeds, splits=digits, workdirs=workdirs, should_stop=stop_after(1))
    assert [r.status for r in interrupted] == ["interrupted"] * 3
    # trial 0 alone (the path of --executor local and of a resumed trial), trials 1 and 2 in a stack
    (alone,) = [train_one(configs[0], seeds[0], splits=digits, workdir=workdirs[0])]
    together = train_group(configs[1:], seeds[1:], splits=digits, workdirs=workdirs[1:])
    for i, resumed in enumerate([alone, *together]):
        assert numbers(resumed) == numbers(straight[i]), f"trial {i}"
