"""Regression losses on float targets (N,) or (N, k): mean over the k targets of each example."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from hyperlab.engine.losses.base import LossChoice

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch


class _Regression(LossChoice):
    task = "regression"

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        errors = self.elementwise(outputs.reshape(targets.shape), targets)
        return errors.reshape(len(targets), -1).mean(dim=1)

    def elementwise(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        raise NotImplementedError


class MSE(_Regression):
    """Mean squared error."""

    name: Literal["mse"] = "mse"
    """Which loss."""

    def elementwise(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (predictions - targets).square()


class MAE(_Regression):
    """Mean absolute error."""

    name: Literal["mae"] = "mae"
    """Which loss."""

    def elementwise(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        return (predictions - targets).abs()


class Huber(_Regression):
    """Quadratic below delta, linear above (torch's HuberLoss; Keras' Huber)."""

    name: Literal["huber"] = "huber"
    """Which loss."""

    delta: float = Field(default=1.0, gt=0.0)
    """Error size where the loss turns from quadratic to linear."""

    def elementwise(self, predictions: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.huber_loss(predictions, targets, reduction="none", delta=self.delta)
