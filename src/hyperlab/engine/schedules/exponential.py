"""Exponential decay: multiply the learning rate by gamma every epoch (torch's ExponentialLR)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.schedules.base import ScheduleChoice


class Exponential(ScheduleChoice):
    """lr * gamma ** epoch, stepped per epoch."""

    name: Literal["exponential"] = "exponential"
    """Which schedule."""

    gamma: float = Field(gt=0.0)
    """Factor applied after every epoch."""

    def at_epoch(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** epoch
