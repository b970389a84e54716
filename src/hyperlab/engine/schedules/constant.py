"""Constant learning rate."""

from __future__ import annotations

from typing import Literal

from hyperlab.engine.schedules.base import ScheduleChoice


class Constant(ScheduleChoice):
    """The optimizer's lr throughout."""

    name: Literal["constant"] = "constant"
    """Which schedule."""

    def at_epoch(self, base_lr: float, epoch: int) -> float:
        return base_lr
