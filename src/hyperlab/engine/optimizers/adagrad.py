"""Adagrad: per-parameter learning rates shrinking with the sum of squared gradients."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.optimizers.base import OptimizerChoice


class Adagrad(OptimizerChoice):
    """torch.optim.Adagrad with torch's defaults."""

    torch_name = "Adagrad"

    name: Literal["adagrad"] = "adagrad"
    """Which optimizer."""

    lr: float = Field(default=0.01, gt=0.0)
    """Learning rate (the schedule's base value)."""

    lr_decay: float = Field(default=0.0, ge=0.0)
    """Per-step learning-rate decay: lr / (1 + (step - 1) * lr_decay)."""

    initial_accumulator_value: float = Field(default=0.0, ge=0.0)
    """Starting value of the sum of squared gradients."""

    eps: float = Field(default=1e-10, gt=0.0)
    """Added to the denominator for numerical stability."""
