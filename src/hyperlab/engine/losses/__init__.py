"""Losses: small modules grouped by task, registered by name."""

from __future__ import annotations

from hyperlab.engine._registry import choice_field
from hyperlab.engine.losses.base import LossChoice
from hyperlab.engine.losses.binary import BCE
from hyperlab.engine.losses.classification import NLL, CategoricalCrossEntropy, CrossEntropy
from hyperlab.engine.losses.regression import MAE, MSE, Huber

LOSSES: dict[str, type[LossChoice]] = {
    cls.model_fields["name"].default: cls
    for cls in (CrossEntropy, NLL, CategoricalCrossEntropy, BCE, MSE, MAE, Huber)
}

LossSpec = choice_field("loss", LossChoice, LOSSES)

__all__ = ["BCE", "LOSSES", "MAE", "MSE", "NLL", "CategoricalCrossEntropy", "CrossEntropy", "Huber",
           "LossChoice", "LossSpec"]
