"""kind = "mlp": a fully connected network on the flattened input."""

from __future__ import annotations

import math
from collections import OrderedDict
from typing import TYPE_CHECKING, Literal

from pydantic import PositiveInt, ValidationInfo, field_validator

from hyperlab.models._common import (
    Activation,
    Init,
    Penalties,
    Rate,
    SpecBase,
    attach_penalties,
    init_layer,
    invalid,
    make_activation,
)

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    from torch import nn


class MLPSpec(SpecBase):
    """Flatten -> [Linear -> (BatchNorm) -> activation -> (Dropout)] per hidden width -> Linear output."""

    kind: Literal["mlp"] = "mlp"
    """Model family: a multi-layer perceptron."""

    hidden: list[PositiveInt]
    """Width of each hidden layer, input side first (notebook 000: [32, 16, 64, 32, 16, 64]). Empty:
    a linear model."""

    activation: Activation = "relu"
    """Activation after every hidden layer: relu, leaky_relu, elu, selu, gelu, tanh, sigmoid, linear."""

    init: Init = "default"
    """Weight initialisation of the hidden layers: he_normal, he_uniform, glorot_uniform,
    glorot_normal, lecun_normal (biases zero, Keras semantics) or default (torch's own)."""

    output_init: Init | None = None
    """Initialisation of the output layer; None: the same as `init` (notebook 000 uses he_normal hidden
    layers and Keras' default glorot_uniform output layer)."""

    dropout: Rate | list[Rate] = 0.0
    """Dropout rate after each hidden layer's activation: one rate for all, or one per hidden layer."""

    dropout_every: PositiveInt = 1
    """With one dropout rate: put dropout after hidden layers 1, 1+k, 1+2k, ... (1-based); 2 is
    notebook 000's "every other layer" (after layers 1, 3, 5)."""

    batchnorm: bool = False
    """Batch normalisation between each hidden Linear layer and its activation (notebook 002)."""

    l1: Penalties = Penalties()
    """L1 penalty coefficients per layer group (hidden_kernel, hidden_bias, output_kernel, output_bias)."""

    l2: Penalties = Penalties()
    """L2 penalty coefficients per layer group, Keras convention (loss += l2 * sum(w^2))."""

    @field_validator("dropout")
    @classmethod
    def _one_rate_per_layer(cls, value: float | list[float], info: ValidationInfo) -> float | list[float]:
        hidden = info.data.get("hidden")
        if isinstance(value, list) and hidden is not None and len(value) != len(hidden):
            raise invalid(f"a list needs one rate per hidden layer ({len(hidden)}), got {len(value)}")
        return value

    @field_validator("dropout_every")
    @classmethod
    def _single_rate_only(cls, value: int, info: ValidationInfo) -> int:
        if value != 1 and isinstance(info.data.get("dropout"), list):
            raise invalid("only applies to a single dropout rate, not to a list of rates")
        return value

    def dropout_rates(self) -> list[float]:
        """The dropout rate after each hidden layer (0 where there is none)."""
        if isinstance(self.dropout, list):
            return list(self.dropout)
        return [self.dropout if i % self.dropout_every == 0 else 0.0 for i in range(len(self.hidden))]


def build_mlp(spec: MLPSpec, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """The network as an nn.Sequential with Keras-like names (dense1, bn1, relu1, dropout1, output)."""
    from torch import nn

    layers: OrderedDict[str, nn.Module] = OrderedDict(flatten=nn.Flatten())
    width = math.prod(input_shape)  # features after flattening
    hidden: list[nn.Linear] = []
    for i, (out, rate) in enumerate(zip(spec.hidden, spec.dropout_rates(), strict=True), start=1):
        dense = nn.Linear(width, out)
        init_layer(dense, spec.init)
        layers[f"dense{i}"] = dense
        hidden.append(dense)
        if spec.batchnorm:
            layers[f"bn{i}"] = nn.BatchNorm1d(out)
        if spec.activation != "linear":
            layers[f"{spec.activation}{i}"] = make_activation(spec.activation)
        if rate > 0:
            layers[f"dropout{i}"] = nn.Dropout(rate)
        width = out
    output = nn.Linear(width, n_outputs)
    init_layer(output, spec.output_init or spec.init)
    layers["output"] = output
    model = nn.Sequential(layers)
    attach_penalties(model, hidden, output, spec.l1, spec.l2)
    return model
