"""Multi-step decay: multiply the learning rate by gamma at given epochs (torch's MultiStepLR)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator
from pydantic_core import PydanticCustomError

from hyperlab.engine.schedules.base import ScheduleChoice


class MultiStep(ScheduleChoice):
    """lr * gamma ** (number of milestones <= epoch), stepped per epoch (epochs 0-based)."""

    name: Literal["multistep"] = "multistep"
    """Which schedule."""

    milestones: list[int] = Field(min_length=1)
    """Epochs (0-based, increasing) from which the next decay applies: [30, 60] decays after 30 and 60
    epochs."""

    gamma: float = Field(default=0.1, gt=0.0)
    """Factor applied at each milestone."""

    @field_validator("milestones")
    @classmethod
    def _increasing(cls, milestones: list[int]) -> list[int]:
        if any(b <= a for a, b in zip(milestones, milestones[1:], strict=False)) or milestones[0] < 1:
            raise PydanticCustomError("invalid", "milestones must be >= 1 and increasing, got {m}",
                                      {"m": milestones})
        return milestones

    def at_epoch(self, base_lr: float, epoch: int) -> float:
        return base_lr * self.gamma ** sum(1 for m in self.milestones if m <= epoch)
