"""measure_config(model_spec, data_cfg): build one configured model and measure it, without training."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

import torch
from torch import nn

from hyperlab.data import describe
from hyperlab.data.config import DataConfig
from hyperlab.errors import UserError
from hyperlab.measure.summary import summarize
from hyperlab.models import build_model


class InputInfo(NamedTuple):
    """What a model builder needs to know about the data."""

    input_shape: tuple[int, ...]  # one example, torch layout
    n_outputs: int  # classes, or 1 for regression
    task: str  # "classification" or "regression"


def input_info(data_cfg: DataConfig | Mapping[str, Any] | None = None) -> InputInfo:
    """Input shape, number of outputs and task of the configured dataset, from hyperlab.data's
    metadata (no array is loaded). Raises UserError for an unknown dataset."""
    cfg = data_cfg if isinstance(data_cfg, DataConfig) else DataConfig(**(data_cfg or {}))
    info = describe(cfg)
    return InputInfo(tuple(int(s) for s in info.input_shape), int(info.n_outputs), info.task)


def build_on_meta(model_spec: Any, input_shape: tuple[int, ...], n_outputs: int, seed: int = 0) -> nn.Module:
    """The model of `model_spec` with its parameters on the meta device: shapes without storage, so
    measuring, budgeting and inspecting never allocate weights (a 1.5 GB model costs nothing here).
    A `python`-kind factory that cannot build on meta (it fills weights from data, say) is built on
    the CPU instead; the built-in kinds always build on meta."""
    try:
        with torch.device("meta"):
            return build_model(model_spec, input_shape, n_outputs, seed)
    except UserError:
        raise
    except Exception:
        spec = model_spec if isinstance(model_spec, Mapping) else vars(model_spec)
        kind = spec.get("kind")
        if kind != "python":
            raise
        return build_model(model_spec, input_shape, n_outputs, seed)


def measure_config(model_spec: Any, data_cfg: DataConfig | Mapping[str, Any] | None = None, *,
                   n_outputs: int | None = None, seed: int = 0) -> dict[str, Any]:
    """Build the model of `model_spec` (a ModelSpec or a `[model]` dict) for the dataset of
    `data_cfg` (default: DataConfig()) and measure it; nothing is trained and no array is loaded.
    `n_outputs` overrides the dataset's output width (a loss such as bce may need 1 for 2 classes).

    Returns a JSON-serialisable dict: params, trainable_params, macs, flops, train_flops,
    flops_by_op, input_shape, output_shape, n_outputs, task, layers (rows as dicts), uncounted,
    and text (the printed layer summary). Raises UserError (message starting with the key, e.g.
    "model.layers[4]: ...") when the model does not fit the data.
    """
    info = input_info(data_cfg)
    width = info.n_outputs if n_outputs is None else n_outputs
    model = build_on_meta(model_spec, info.input_shape, width, seed)
    summary = summarize(model, info.input_shape)
    return {**summary.to_dict(), "n_outputs": width, "task": info.task, "text": summary.table()}
