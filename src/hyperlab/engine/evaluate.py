"""Evaluation of a model on a whole split: large batches, inference mode, one host sync."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

import torch
from torch import nn

from hyperlab.engine.losses import LossChoice

Autocast = Callable[[], AbstractContextManager]


@torch.inference_mode()
def predict(model: nn.Module, inputs: torch.Tensor, batch_size: int, autocast: Autocast) -> torch.Tensor:
    """The model's float32 outputs for every row of `inputs`, in eval mode (dropout off, BN frozen)."""
    model.eval()
    outputs = []
    for start in range(0, len(inputs), batch_size):
        with autocast():
            outputs.append(model(inputs[start:start + batch_size]).float())
    return torch.cat(outputs)


@torch.inference_mode()
def evaluate(model: nn.Module, inputs: torch.Tensor, targets: torch.Tensor, loss: LossChoice,
             n_classes: int, batch_size: int, autocast: Autocast) -> dict:
    """Metrics of `model` on one split, as plain Python values.

    Classification: loss, accuracy, confusion (list of rows: true class, columns: predicted class).
    Regression: loss, mse, mae, r2 (R^2 averaged over the targets, as scikit-learn does).
    """
    outputs = predict(model, inputs, batch_size, autocast)
    mean_loss = loss.per_example(outputs, targets).mean()
    if loss.task == "classification":
        predicted = loss.predict(outputs)
        cells = torch.bincount(targets * n_classes + predicted, minlength=n_classes * n_classes)
        values = torch.cat([mean_loss.double().view(1), cells.double()]).tolist()  # one sync
        confusion = [[int(c) for c in values[1 + r * n_classes:1 + (r + 1) * n_classes]]
                     for r in range(n_classes)]
        correct = sum(confusion[r][r] for r in range(n_classes))
        return {"loss": values[0], "accuracy": correct / len(targets), "confusion": confusion}
    predictions = outputs.reshape(targets.shape)
    errors = (predictions - targets).reshape(len(targets), -1)  # (N, k)
    truth = targets.reshape(len(targets), -1)
    residual = errors.square().sum(0)
    total = (truth - truth.mean(0)).square().sum(0)
    r2 = (1 - residual / total).mean()
    values = torch.stack([mean_loss, errors.square().mean(), errors.abs().mean(), r2]).tolist()
    return dict(zip(("loss", "mse", "mae", "r2"), values, strict=True))


def per_class_accuracy(confusion: list[list[int]]) -> list[float | None]:
    """Recall of each class from a confusion matrix (None for a class with no examples)."""
    return [row[i] / sum(row) if sum(row) else None for i, row in enumerate(confusion)]
