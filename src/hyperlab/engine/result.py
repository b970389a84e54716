"""What a trial reports: status, the epoch records, the final metrics."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

Status = Literal["completed", "early_stopped", "diverged", "pruned", "failed", "interrupted"]


@dataclass
class TrialResult:
    """The outcome of one trial. A training problem is a status, never an exception.

    `final` is empty unless the trial completed or stopped early; its keys are listed in
    docs/training.md (test metrics of the final and of the best weights, validation metrics,
    per-class accuracies and confusion matrices of the weights the trial keeps).
    """

    status: Status
    stop_reason: str  # one line: "completed 10 epochs", "diverged at epoch 3: train loss is nan", ...
    epochs: list[dict] = field(default_factory=list)  # one record per evaluated epoch
    best_epoch: int | None = None  # epoch of the best monitored validation value
    final: dict = field(default_factory=dict)
    seconds: float = 0.0  # wall time, summed over resumed calls
    params: int = 0  # parameters of the model
    error: str | None = None  # "ExceptionType: message" for failed trials
    # the numerics it trained under, as segments (hyperlab.engine.numerics): a second segment is a
    # resume under other numerics, from its `from_epoch`
    numerics: list[dict] = field(default_factory=list)

    def to_dict(self) -> dict:
        """A JSON-serialisable copy."""
        return dataclasses.asdict(self)
