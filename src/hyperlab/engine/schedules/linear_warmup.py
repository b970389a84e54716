"""Linear warm-up, then constant, stepped per batch."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from hyperlab.engine.schedules.base import ScheduleChoice


class LinearWarmup(ScheduleChoice):
    """From lr * start_factor up to lr in a straight line over warmup_epochs, then lr."""

    per_batch = True

    name: Literal["linear_warmup"] = "linear_warmup"
    """Which schedule."""

    warmup_epochs: float = Field(default=1.0, gt=0.0)
    """Length of the ramp in epochs (fractions allowed: 0.5 = half an epoch of batches)."""

    start_factor: float = Field(default=0.1, gt=0.0, le=1.0)
    """Fraction of lr used for the first batch."""

    def lr_at(self, base_lr: float, step: int, steps_per_epoch: int, total_steps: int) -> float:
        warmup_steps = max(1, round(self.warmup_epochs * steps_per_epoch))
        progress = min(1.0, step / warmup_steps)
        return base_lr * (self.start_factor + (1.0 - self.start_factor) * progress)
