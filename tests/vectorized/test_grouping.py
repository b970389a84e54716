"""Which trials train together, and why the others go to the engine."""

from __future__ import annotations

import pytest
from vectorized_helpers import CONVNET, MLP, trial, with_model

from hyperlab.vectorized import group_key, group_trials, train_group, why_not_vectorized


def test_variants_differing_in_training_hyperparameters_share_a_group():
    configs = [trial(), trial(optimizer={"name": "sgd", "lr": 0.5, "momentum": 0.0, "weight_decay": 0.1}),
               trial(with_model(MLP, dropout=0.2, l2={"output_kernel": 0.5})), trial(epochs=7),
               trial(loss={"name": "cross_entropy", "label_smoothing": 0.2}),
               trial(schedule={"name": "cosine"}),
               trial(with_model(MLP, activation="tanh", init="glorot_uniform")),
               trial(with_model(MLP, activation="linear"))]  # activations run per trial in the stack
    assert len({group_key(c, seed=0) for c in configs}) == 1
    groups = group_trials(list(range(8)), config_of=lambda i: configs[i], seed_of=lambda i: 0)
    assert groups == [list(range(8))]


@pytest.mark.parametrize("other", [
    trial(with_model(MLP, hidden=[32, 32])),  # another architecture
    trial(with_model(MLP, hidden=[16, 32])),  # the same layers, other widths
    trial(batch_size=32),
    trial(precision="bf16"),
    trial(eval_every=2),
])
def test_what_a_stack_shares_splits_groups(other):
    assert group_key(other, seed=0) is not None
    assert group_key(other, seed=0) != group_key(trial(), seed=0)


def test_seeds_split_groups_only_when_batches_must_be_shared():
    a, b = trial(), trial(optimizer={"name": "sgd", "lr": 0.2})
    items = [(a, 0), (b, 1), (b, 0), (a, 1)]
    by_seed = group_trials(items, config_of=lambda t: t[0], seed_of=lambda t: t[1])
    assert by_seed == [[(a, 0), (b, 0)], [(b, 1), (a, 1)]]
    assert group_trials(items, config_of=lambda t: t[0]) == [items]


def test_groups_are_cut_at_max_group_and_keep_the_plan_order():
    configs = [trial(optimizer={"name": "sgd", "lr": 0.01 * (i + 1)}) for i in range(5)]
    groups = group_trials(configs, config_of=lambda c: c, seed_of=lambda c: 0, max_group=2)
    assert groups == [configs[0:2], configs[2:4], configs[4:5]]


@pytest.mark.parametrize(("config", "reason"), [
    (trial(optimizer={"name": "rmsprop", "lr": 0.001}), "optimizer 'rmsprop'"),
    (trial(optimizer={"name": "adam", "lr": 0.001, "amsgrad": True}), "AMSGrad"),
    (trial({"kind": "resnet", "widths": [4], "blocks": 1}), "model.kind 'resnet'"),
    (trial(with_model(CONVNET, layers=["conv 4 k3", "res 4", "gap"])), "ResidualBlock"),
    (trial(loss={"name": "mse"}), "train.loss 'mse'"),
    (trial(with_model(MLP, hidden=[1024, 1024])), "dense layer of 1,048,576 weights"),  # slow stacked
])
def test_unsupported_trials_say_why_and_stay_alone(config, reason):
    # on the CPU: the dense-layer limit is a CPU rule (on CUDA batched products are the win)
    assert reason in why_not_vectorized(config, "cpu")
    assert group_key(config, seed=0, device="cpu") is None
    assert group_trials([config, config], config_of=lambda c: c, seed_of=lambda c: 0,
                        device="cpu") == [[config], [config]]


def test_train_group_refuses_trials_that_do_not_stack(digits):
    with pytest.raises(ValueError, match="trial 1 cannot train in this stack"):
        train_group([trial(), trial(batch_size=32)], [0, 0], splits=digits)
