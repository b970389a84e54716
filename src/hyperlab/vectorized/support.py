"""Which trials train together: what may differ inside a group, what must not, and why a trial is
left to the normal engine.

May differ: learning rate, momentum, dampening, Nesterov, weight decay, schedule, epochs, early
stopping, divergence factor, gradient clipping, augmentation, model init, dropout rates and
placement, activations, L1/L2 penalties, label smoothing, the seed (when `share_batches` is off).
Must be equal: the data, the architecture (layer types and shapes, activations aside), the batch
size, the optimizer kind, the loss kind, precision and evaluation frequency. (Device, threads and evaluation
batch size are run settings: one per process, never part of a trial.)
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from functools import lru_cache
from typing import Any, TypeVar

from torch import nn

from hyperlab.data import describe
from hyperlab.engine.determinism import resolve_device
from hyperlab.measure import build_on_meta
from hyperlab.vectorized.stack import signature, why_not

T = TypeVar("T")

SUPPORTED_OPTIMIZERS = ("sgd", "adam", "adamw")
SUPPORTED_KINDS = ("mlp", "sequential")
SUPPORTED_LOSSES = ("cross_entropy", "nll", "categorical_cross_entropy", "bce")  # every classification loss

# On a CPU a stack loses once one trial's dense layer is this big: forward + backward of 7 stacked
# (300, 25088) weights took ~2x as long as 7 separate F.linear calls, even multiplied weight-first
# (benchmarks/stacked_dense.py), and notebook 001's 7.6M-parameter CNN trained 0.55x as fast stacked as
# one by one (docs/performance.md). On CUDA batched products are the win, so the rule is CPU-only.
CPU_MAX_DENSE_WEIGHTS = 1_000_000


def why_not_vectorized(config: Any, device: str = "auto") -> str | None:
    """Why this trial config cannot be trained in a stack on `device` (None when it can)."""
    train = config.train
    if train.optimizer.name not in SUPPORTED_OPTIMIZERS:
        allowed = ", ".join(SUPPORTED_OPTIMIZERS)
        return f"train.optimizer {train.optimizer.name!r}: only {allowed} are vectorized"
    if getattr(train.optimizer, "amsgrad", False):
        return "train.optimizer.amsgrad: AMSGrad is not vectorized"
    if config.model.kind not in SUPPORTED_KINDS:
        return f"model.kind {config.model.kind!r}: only {', '.join(SUPPORTED_KINDS)} are vectorized"
    if train.loss.name not in SUPPORTED_LOSSES:
        return f"train.loss {train.loss.name!r}: only {', '.join(SUPPORTED_LOSSES)} are vectorized"
    try:
        info = _describe(config.data.model_dump_json())
    except Exception as error:  # the data cannot be described: the engine reports it properly
        return f"data: {type(error).__name__}: {error}"
    if info.task != "classification":
        return f"data: a {info.task} task; only classification is vectorized"
    built = _built(_model_json(config), tuple(info.input_shape), train.loss.output_width(len(info.classes)))
    if built[0] is not None:
        return built[0]
    if built[2] > CPU_MAX_DENSE_WEIGHTS and _on_cpu(device):
        return (f"model: a dense layer of {built[2]:,} weights (> {CPU_MAX_DENSE_WEIGHTS:,}) trains faster "
                "one trial at a time on a CPU")
    return None


def group_key(config: Any, seed: int | None = None, device: str = "auto") -> str | None:
    """Equal for two trials exactly when they can train in one stack (None: not vectorizable).
    With `seed` given, only trials of that seed group together (they share every batch)."""
    if why_not_vectorized(config, device) is not None:
        return None
    train = config.train
    info = _describe(config.data.model_dump_json())
    outputs = train.loss.output_width(len(info.classes))
    arch = _signature(_model_json(config), tuple(info.input_shape), outputs)
    shared = {
        "data": config.data.model_dump(mode="json"), "architecture": arch, "seed": seed,
        "batch_size": train.batch_size, "optimizer": train.optimizer.name,
        "precision": train.precision, "eval_every": train.eval_every,
    }
    return json.dumps(shared, sort_keys=True)


def group_trials(items: Sequence[T], config_of: Callable[[T], Any], seed_of: Callable[[T], int] | None = None,
                 max_group: int = 16, device: str = "auto") -> list[list[T]]:
    """Split `items` into groups that train together, in order of first appearance; an item that
    cannot be vectorized is a group of one. `seed_of`: group only items of one seed (shared
    batches, the fast case); None lets seeds mix (each trial then gathers its own batches)."""
    groups: dict[str, list[T]] = {}
    order: list[list[T]] = []
    for item in items:
        config = config_of(item)
        key = group_key(config, seed_of(item) if seed_of else None, device)
        if key is None:
            order.append([item])
            continue
        current = groups.get(key)
        if current is None or len(current) >= max_group:
            current = groups[key] = []
            order.append(current)
        current.append(item)
    return order


@lru_cache(maxsize=64)
def _describe(data_json: str) -> Any:
    from hyperlab.data import DataConfig

    return describe(DataConfig.model_validate_json(data_json))


def _model_json(config: Any) -> str:
    return json.dumps(config.model.model_dump(mode="json"), sort_keys=True)


def _on_cpu(device: str) -> bool:
    try:
        return resolve_device(device).type == "cpu"
    except RuntimeError:  # cuda asked for and absent: the engine reports it
        return False


@lru_cache(maxsize=256)
def _built(model_json: str, input_shape: tuple[int, ...],
           n_outputs: int) -> tuple[str | None, str | None, int]:
    """(problem, signature, largest dense weight count) of the model a spec builds (seed 0: the
    weights do not matter)."""
    try:
        model = build_on_meta(json.loads(model_json), input_shape, n_outputs)  # shapes, no weights
    except Exception as error:  # the engine reports a spec that does not fit the data
        return f"model: {type(error).__name__}: {error}", None, 0
    largest = max((m.weight.numel() for m in model.modules() if isinstance(m, nn.Linear)), default=0)
    return why_not(model), signature(model), largest


def _signature(model_json: str, input_shape: tuple[int, ...], n_outputs: int) -> str | None:
    return _built(model_json, input_shape, n_outputs)[1]
