"""Binary cross entropy for two-class problems: the model has one output, the logit of class 1."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from hyperlab.engine.losses.base import LossChoice

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch


class BCE(LossChoice):
    """Sigmoid binary cross entropy on the single logit; predicted class = logit > 0."""

    task = "classification"

    name: Literal["bce"] = "bce"
    """Which loss."""

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.binary_cross_entropy_with_logits(outputs.reshape(-1), targets.to(outputs.dtype),
                                                  reduction="none")

    def output_width(self, n_outputs: int) -> int:
        return 1

    def predict(self, outputs: torch.Tensor) -> torch.Tensor:
        return (outputs.reshape(-1) > 0).long()

    def check(self, task: str, n_outputs: int) -> str | None:
        if task == "classification" and n_outputs != 2:
            return f"loss 'bce' needs exactly 2 classes, the dataset has {n_outputs}"
        return super().check(task, n_outputs)
