"""The best validation value so far, and how long it has not improved (early stopping's state)."""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass
class BestTracker:
    """Watches `monitor` (val_loss: lower is better; val_accuracy: higher). An evaluation improves
    when it beats the best by more than `min_delta`. `patience` None: never asks to stop."""

    monitor: str
    min_delta: float = 0.0
    patience: int | None = None
    best_value: float | None = None
    best_epoch: int | None = None
    waited: int = 0  # evaluations since the last improvement

    def update(self, record: dict) -> bool:
        """Take one epoch record; True when it is the new best."""
        value = record[self.monitor]
        if self.best_value is None:
            improved = True
        elif self.monitor == "val_loss":
            improved = value < self.best_value - self.min_delta
        else:
            improved = value > self.best_value + self.min_delta
        if improved:
            self.best_value, self.best_epoch, self.waited = value, record["epoch"], 0
        else:
            self.waited += 1
        return improved

    @property
    def exhausted(self) -> bool:
        """Patience has run out (as Keras: after `patience` evaluations without improvement)."""
        return self.patience is not None and self.waited > 0 and self.waited >= self.patience

    def to_json(self) -> dict:
        return asdict(self)
