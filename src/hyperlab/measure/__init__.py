"""Measure a model before training: parameters, MACs and FLOPs per layer and by operation type.

    summary = summarize(model, input_shape=(3, 32, 32))
    print(summary)                       # the layer table, like Keras' model.summary()
    summary.params, summary.macs, summary.flops, summary.flops_by_op, summary.train_flops

Counting conventions: ModelSummary's docstring and docs/models.md ("Measurement").
"""

from __future__ import annotations

from hyperlab.measure._ops import OPS
from hyperlab.measure.config import InputInfo, build_on_meta, input_info, measure_config
from hyperlab.measure.summary import TRAIN_FLOPS_FACTOR, LayerRow, ModelSummary, format_summary, summarize

__all__ = [
    "OPS",
    "build_on_meta",
    "TRAIN_FLOPS_FACTOR",
    "InputInfo",
    "LayerRow",
    "ModelSummary",
    "format_summary",
    "input_info",
    "measure_config",
    "summarize",
]
