"""Stochastic gradient descent, with optional (Nesterov) momentum."""

from __future__ import annotations

from typing import Literal

import torch
from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from hyperlab.engine.optimizers.base import OptimizerChoice


class SGD(OptimizerChoice):
    """torch.optim.SGD. The default lr is Keras' (0.01), which the notebooks' `"sgd"` used."""

    torch_class = torch.optim.SGD

    name: Literal["sgd"] = "sgd"
    """Which optimizer."""

    lr: float = Field(default=0.01, gt=0.0)
    """Learning rate (the schedule's base value)."""

    momentum: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Momentum factor (0 = plain SGD)."""

    dampening: float = Field(default=0.0, ge=0.0, le=1.0)
    """Dampening of the momentum's gradient term."""

    nesterov: bool = False
    """Nesterov momentum (needs momentum > 0 and dampening = 0)."""

    @model_validator(mode="after")
    def _nesterov_needs_momentum(self) -> SGD:
        if self.nesterov and (self.momentum <= 0 or self.dampening != 0):
            raise PydanticCustomError(
                "invalid", "nesterov needs momentum > 0 and dampening = 0, got momentum={m}, dampening={d}",
                {"m": self.momentum, "d": self.dampening})
        return self
