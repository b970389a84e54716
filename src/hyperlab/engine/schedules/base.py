"""What every learning-rate schedule shares.

A schedule is a pure function of the training position: the engine asks for the learning rate of a
step (a batch) and sets it on the optimizer. Nothing is stored between steps, so a resumed trial
gets exactly the learning rates an uninterrupted one would (no scheduler state to checkpoint).
"""

from __future__ import annotations

from typing import ClassVar

from hyperlab.engine._registry import Choice


class ScheduleChoice(Choice):
    """A learning-rate schedule, stepped per batch (`per_batch`) or per epoch."""

    per_batch: ClassVar[bool] = False

    def lr_at(self, base_lr: float, step: int, steps_per_epoch: int, total_steps: int) -> float:
        """The learning rate of the batch with 0-based global index `step` out of `total_steps`.

        Per-epoch schedules look only at the epoch, `step // steps_per_epoch`, so the rate changes
        between epochs; per-batch schedules change it before every batch.
        """
        return self.at_epoch(base_lr, step // steps_per_epoch)

    def at_epoch(self, base_lr: float, epoch: int) -> float:
        """Per-epoch schedules: the learning rate during 0-based epoch `epoch`."""
        raise NotImplementedError
