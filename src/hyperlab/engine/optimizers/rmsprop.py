"""RMSprop: divides the gradient by a running root mean square of recent gradients."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.optimizers.base import OptimizerChoice


class RMSprop(OptimizerChoice):
    """torch.optim.RMSprop with torch's defaults (Keras' default lr is 0.001)."""

    torch_name = "RMSprop"

    name: Literal["rmsprop"] = "rmsprop"
    """Which optimizer."""

    lr: float = Field(default=0.01, gt=0.0)
    """Learning rate (the schedule's base value)."""

    alpha: float = Field(default=0.99, gt=0.0, lt=1.0)
    """Decay rate of the running mean of squared gradients (Keras calls it rho)."""

    eps: float = Field(default=1e-8, gt=0.0)
    """Added to the denominator for numerical stability."""

    momentum: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Momentum factor."""

    centered: bool = False
    """Normalise by an estimate of the gradient's variance instead of its raw second moment."""
