"""Vectorized training: many small models of one architecture trained at once, as one stacked model.

    groups = group_trials(tasks, config_of=lambda t: t.config, seed_of=lambda t: t.seed)
    results = train_group([c1, c2, c3], seeds=[0, 0, 0])     # one TrialResult per trial, in order
    result = train_one(config, seed=0)                       # alone: a stack of one, or the engine

The runner's executor that claims, stores and heartbeats stacked trials is
`hyperlab.runner.VectorizedExecutor` (runner/stacked.py); this package only trains.

Trials that share the data, the architecture and the batch size, and differ in learning rate,
momentum, weight decay, L1/L2, dropout, label smoothing, schedule, epochs, init or seed, train as
one network whose layers hold K sets of weights: dense layers become batched matrix products (one
large product for the first layer when the trials share their batches), convolutions one
convolution per trial (one for all on a shared input). Each trial's numbers are exactly those it
gets in a stack of one (`train_one`, the path every executor takes for it alone), whatever it is
stacked with, and agree with the engine's plain loop (`hyperlab.engine.train_trial`) to float
rounding (1e-5 relative in the tests). What is supported, and what falls back to the engine:
docs/performance.md.
"""

from __future__ import annotations

from hyperlab.vectorized.optim import StackedSGD
from hyperlab.vectorized.stack import StackedNet
from hyperlab.vectorized.support import group_key, group_trials, why_not_vectorized
from hyperlab.vectorized.train import train_group, train_one

__all__ = [
    "StackedNet",
    "StackedSGD",
    "group_key",
    "group_trials",
    "train_group",
    "train_one",
    "why_not_vectorized",
]
