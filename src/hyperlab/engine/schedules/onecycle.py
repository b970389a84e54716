"""One-cycle: up to lr, then down far below it, along cosines (torch's OneCycleLR), per batch."""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field

from hyperlab.engine.schedules.base import ScheduleChoice


def _cosine_between(start: float, end: float, fraction: float) -> float:
    return end + (start - end) * (1 + math.cos(math.pi * fraction)) / 2


class OneCycle(ScheduleChoice):
    """Rises from lr / div_factor to lr during the first pct_start of the steps, then falls to
    lr / div_factor / final_div_factor. Momentum is not cycled (torch's OneCycleLR does that by
    default; here momentum stays what the optimizer says, so a study changes one thing at a time)."""

    per_batch = True

    name: Literal["onecycle"] = "onecycle"
    """Which schedule."""

    pct_start: float = Field(default=0.3, gt=0.0, lt=1.0)
    """Fraction of all steps spent rising."""

    div_factor: float = Field(default=25.0, ge=1.0)
    """Initial lr = lr / div_factor."""

    final_div_factor: float = Field(default=1e4, ge=1.0)
    """Final lr = initial lr / final_div_factor."""

    def lr_at(self, base_lr: float, step: int, steps_per_epoch: int, total_steps: int) -> float:
        initial = base_lr / self.div_factor
        peak_step = self.pct_start * total_steps - 1  # torch's phase boundary
        if step <= peak_step:
            return _cosine_between(initial, base_lr, step / peak_step if peak_step > 0 else 1.0)
        fraction = (step - peak_step) / max(total_steps - 1 - peak_step, 1e-12)
        return _cosine_between(base_lr, initial / self.final_div_factor, min(fraction, 1.0))
