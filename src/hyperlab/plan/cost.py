"""What a variant costs before it is trained: parameters, MACs and FLOPs of its model on its data.

Built the way the engine builds it (same input shape, same output width for the loss), measured
by hyperlab.measure, and cached per distinct (data, model, loss) so that a plan whose variants only
change training settings measures the model once.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass

from hyperlab.engine import TrialConfig
from hyperlab.errors import UserError


@dataclass(frozen=True)
class Cost:
    """Size and forward cost of one example (hyperlab.measure's conventions)."""

    params: int
    trainable_params: int
    macs: int
    flops: int
    train_flops: int  # forward + backward
    activations: int = 0  # values one example's forward pass produces (the input and every layer's output)


def variant_cost(config: TrialConfig) -> Cost:
    """The cost of `config`'s model on `config`'s data. Raises UserError when the data is unknown,
    the loss does not suit the task, or the model cannot be built for this input."""
    return _cost(cost_key(config), config)


def cost_key(config: TrialConfig) -> str:
    """What a variant's cost depends on: its data, model and loss (canonical JSON)."""
    return json.dumps(
        [config.data.model_dump(mode="json"), config.model.model_dump(mode="json"),
         config.train.loss.model_dump(mode="json")],
        sort_keys=True,
    )


def _loss_problem(config: TrialConfig, task: str, why_not: str) -> str:
    """Why the loss does not suit the data. A user file is a regression set because its y_train is
    not integers: then y_train is what to fix (a float or string label array), not the loss."""
    dataset, loss = config.data.dataset, config.train.loss
    if task == "regression" and loss.task == "classification" and str(dataset).startswith("npz:"):
        return (f"{str(dataset).removeprefix('npz:')}: y_train: must be 1-D integer labels for "
                f"train.loss {loss.name!r} (its values are not integers, which makes a regression set; "
                f"store the labels as integers, or use a regression loss such as \"mse\")")
    return f"train.loss: {why_not}"


_CACHE: dict[str, Cost] = {}  # canonical (data, model, loss) JSON -> cost, oldest first
_CACHE_SIZE = 512


def _cost(key: str, config: TrialConfig) -> Cost:
    from hyperlab.measure import build_on_meta, input_info, summarize  # torch

    if key in _CACHE:
        return _CACHE[key]
    info = input_info(config.data)  # UserError for an unknown dataset
    why_not = config.train.loss.check(info.task, info.n_outputs)
    if why_not:
        raise UserError(_loss_problem(config, info.task, why_not))
    n_outputs = config.train.loss.output_width(info.n_outputs)
    try:
        model = build_on_meta(config.model, info.input_shape, n_outputs)  # shapes only: no weights
    except UserError:
        raise
    except Exception as exc:  # a python-kind factory's own error, or a shape the builder rejects
        raise UserError(f"model: cannot build the model for input {info.input_shape}: "
                        f"{type(exc).__name__}: {exc}") from exc
    summary = summarize(model, info.input_shape)
    activations = math.prod(info.input_shape) + sum(math.prod(row.output_shape) for row in summary.layers)
    cost = Cost(summary.params, summary.trainable_params, summary.macs, summary.flops, summary.train_flops,
                activations)
    if len(_CACHE) >= _CACHE_SIZE:
        _CACHE.pop(next(iter(_CACHE)))
    _CACHE[key] = cost
    return cost
