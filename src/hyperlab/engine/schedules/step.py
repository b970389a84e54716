"""Step decay: multiply the learning rate by gamma every step_size epochs (torch's StepLR)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.schedules.base import ScheduleChoice


class Step(ScheduleChoice):
    """lr * gamma ** (epoch // step_size), stepped per epoch."""

    name: Literal["step"] = "step"
    """Which schedule."""

    step_size: int = Field(ge=1)
    """Epochs between two decays."""

    gamma: float = Field(default=0.1, gt=0.0)
    """Factor applied at each decay."""

    def at_epoch(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** (epoch // self.step_size)
