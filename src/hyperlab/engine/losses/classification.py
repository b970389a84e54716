"""Losses over class scores (logits): cross entropy on integer labels, NLL on log-softmax, and
categorical cross entropy on one-hot targets (Keras' sparse vs one-hot pair, notebook 003)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Literal

from pydantic import Field

from hyperlab.engine.losses.base import LossChoice

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch


class _OverClasses(LossChoice):
    task = "classification"

    label_smoothing: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Mix the targets with the uniform distribution: (1 - s) * target + s / classes."""


class CrossEntropy(_OverClasses):
    """Softmax cross entropy on integer labels (Keras' sparse_categorical_crossentropy)."""

    name: Literal["cross_entropy"] = "cross_entropy"
    """Which loss."""

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.cross_entropy(outputs, targets, reduction="none", label_smoothing=self.label_smoothing)


class NLL(LossChoice):
    """Negative log-likelihood of log_softmax(outputs): models that already end with log_softmax
    train unchanged (log_softmax of log-probabilities is the identity)."""

    task = "classification"

    name: Literal["nll"] = "nll"
    """Which loss."""

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        return F.nll_loss(F.log_softmax(outputs, dim=1), targets, reduction="none")


class CategoricalCrossEntropy(_OverClasses):
    """Cross entropy against one-hot target vectors (Keras' categorical_crossentropy). The labels
    are one-hot encoded here; the optimum and the gradients are those of cross_entropy."""

    name: Literal["categorical_cross_entropy"] = "categorical_cross_entropy"
    """Which loss."""

    def per_example(self, outputs: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
        import torch.nn.functional as F

        classes = outputs.shape[1]
        one_hot = F.one_hot(targets, classes).to(outputs.dtype)  # (N, classes)
        if self.label_smoothing:
            one_hot = one_hot * (1 - self.label_smoothing) + self.label_smoothing / classes
        return -(one_hot * F.log_softmax(outputs, dim=1)).sum(dim=1)
