"""Optimizers: one module per choice, registered by name."""

from __future__ import annotations

from hyperlab.engine._registry import choice_field
from hyperlab.engine.optimizers.adagrad import Adagrad
from hyperlab.engine.optimizers.adam import Adam
from hyperlab.engine.optimizers.adamw import AdamW
from hyperlab.engine.optimizers.base import OptimizerChoice
from hyperlab.engine.optimizers.rmsprop import RMSprop
from hyperlab.engine.optimizers.sgd import SGD

OPTIMIZERS: dict[str, type[OptimizerChoice]] = {
    cls.model_fields["name"].default: cls for cls in (SGD, Adam, AdamW, Adagrad, RMSprop)
}

OptimizerSpec = choice_field("optimizer", OptimizerChoice, OPTIMIZERS)

__all__ = ["OPTIMIZERS", "Adagrad", "Adam", "AdamW", "OptimizerChoice", "OptimizerSpec", "RMSprop", "SGD"]
