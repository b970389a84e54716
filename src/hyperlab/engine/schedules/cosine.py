"""Cosine annealing over the whole run, stepped per batch."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from hyperlab.engine.schedules.base import ScheduleChoice


class Cosine(ScheduleChoice):
    """From lr down to min_lr along half a cosine over all batches of all epochs (torch's
    CosineAnnealingLR with T_max = total steps)."""

    per_batch = True

    name: Literal["cosine"] = "cosine"
    """Which schedule."""

    min_lr: float = Field(default=0.0, ge=0.0)
    """Learning rate reached at the end of training."""

    def lr_at(self, base_lr: float, step: int, steps_per_epoch: int, total_steps: int) -> float:
        return self.min_lr + (base_lr - self.min_lr) * (1 + math.cos(math.pi * step / total_steps)) / 2
