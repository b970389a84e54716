"""What every loss shares: per-example values, how outputs become predictions, which task it fits."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from hyperlab.engine._registry import Choice

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch


class LossChoice(Choice):
    """A loss: `per_example(outputs, targets)` is (N,) in float32; the trial minimises its mean.

    Targets are what `Splits` holds: int64 class indices (N,) for classification, float32 (N,) or
    (N, k) for regression. Losses that want another form (one-hot, a single logit) convert here, so
    every variant of a study reads the same data.
    """

    task: ClassVar[Literal["classification", "regression"]]

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError

    def output_width(self, n_outputs: int) -> int:
        """Width of the model's last layer for a task with `n_outputs` classes or targets."""
        return n_outputs

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        """Classification: the predicted class index of each example (N,)."""
        return outputs.argmax(dim=1)

    def check(self, task: str, n_outputs: int) -> str | None:
        """Why this loss cannot train this task, or None when it can."""
        if task != self.task:
            return f"loss {self.name!r} is for {self.task}, but the dataset is a {task} task"
        return None
