"""About how much memory training a trial takes, from what the plan measured on the meta device:
enough to refuse, before anything is allocated, a trial that cannot fit (hyperlab.runner checks it
against the memory of the machine or the GPU), and to say in an out-of-memory error what was needed.

    weights, gradients and optimizer state: params x 4 bytes x (2 + the optimizer's slots)
    activations: values per example (input and every layer's output) x batch size x 4 bytes x 2
                 (kept for the backward pass, and their gradients)

An estimate in float32 (mixed precision needs less); the data set itself and the framework's own
memory are not counted: a trial over it cannot fit, one under it may still not.
"""

from __future__ import annotations

from typing import Any

BYTES_PER_VALUE = 4  # float32


def optimizer_slots(optimizer: Any) -> int:
    """Tensors of the parameters' size the optimizer keeps (momentum buffers, moment estimates)."""
    name = getattr(optimizer, "name", "adam")
    if name == "sgd":
        return 1 if getattr(optimizer, "momentum", 0) else 0
    if name in ("adam", "adamw"):
        return 3 if getattr(optimizer, "amsgrad", False) else 2
    if name == "rmsprop":
        return 1 + bool(getattr(optimizer, "momentum", 0)) + bool(getattr(optimizer, "centered", False))
    return 1  # adagrad: the sum of squares


def train_memory(config: Any, cost: Any) -> int:
    """Bytes that training `config` (a TrialConfig) needs about, given its model's `cost`
    (hyperlab.plan.cost.Cost: params and activations per example)."""
    state = cost.params * BYTES_PER_VALUE * (2 + optimizer_slots(config.train.optimizer))
    activations = cost.activations * config.train.batch_size * BYTES_PER_VALUE * 2
    return state + activations
