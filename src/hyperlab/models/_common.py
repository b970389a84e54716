"""What every model kind shares: activations, weight initialisers, L1/L2 penalties, base spec."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Annotated, Literal, NamedTuple

from pydantic import BaseModel, ConfigDict, Field
from pydantic_core import PydanticCustomError

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch
    from torch import nn

Activation = Literal["relu", "leaky_relu", "elu", "selu", "gelu", "tanh", "sigmoid", "linear"]
ACTIVATIONS: tuple[str, ...] = Activation.__args__

Init = Literal["default", "he_normal", "he_uniform", "glorot_uniform", "glorot_normal", "lecun_normal"]
INITS: tuple[str, ...] = Init.__args__

Rate = Annotated[float, Field(ge=0.0, lt=1.0)]  # a dropout probability


def invalid(message: str) -> PydanticCustomError:
    """A validation error whose message is shown as is (no "Value error, " prefix)."""
    return PydanticCustomError("invalid", message)


class SpecBase(BaseModel):
    """Common pydantic settings: unknown keys are errors, field docstrings become descriptions."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)


class Penalties(SpecBase):
    """Penalty coefficients per layer group (Keras convention: the coefficient multiplies the sum).

    "hidden" is every conv/dense layer before the output layer; "output" is the final dense layer.
    Batch-norm scales and shifts are never penalised.
    """

    hidden_kernel: float = Field(default=0.0, ge=0.0)
    """Coefficient on the weights (kernels) of the hidden conv/dense layers."""

    hidden_bias: float = Field(default=0.0, ge=0.0)
    """Coefficient on the biases of the hidden conv/dense layers."""

    output_kernel: float = Field(default=0.0, ge=0.0)
    """Coefficient on the output layer's weights (notebook 000: 0.01 or 0.5 for L2)."""

    output_bias: float = Field(default=0.0, ge=0.0)
    """Coefficient on the output layer's bias (notebook 000: same value as the kernel)."""


def make_activation(name: str) -> nn.Module:
    """A fresh activation module; `linear` is the identity."""
    from torch import nn

    match name:
        case "relu":
            return nn.ReLU()
        case "leaky_relu":
            return nn.LeakyReLU(0.01)  # torch's default slope (Keras' LeakyReLU layer uses 0.3)
        case "elu":
            return nn.ELU()
        case "selu":
            return nn.SELU()
        case "gelu":
            return nn.GELU()
        case "tanh":
            return nn.Tanh()
        case "sigmoid":
            return nn.Sigmoid()
        case "linear":
            return nn.Identity()
    raise ValueError(f"unknown activation {name!r}; allowed: {', '.join(ACTIVATIONS)}")


# Keras draws its "normal" initialisers from a normal truncated at 2 standard deviations and widens
# the distribution so the variance stays scale/fan (stddev / .8796...). We do the same.
_TRUNC_STD_CORRECTION = 0.87962566103423978


def init_layer(layer: nn.Module, init: str) -> None:
    """Initialise a Linear/Conv layer in place. `default` keeps torch's own initialisation
    (kaiming-uniform weights, uniform biases); every other scheme zeroes the bias, as Keras does."""
    import torch

    if init == "default":
        return
    weight: torch.Tensor = layer.weight
    fan_out, fan_in = weight.shape[0], weight[0].numel()
    if weight.ndim > 2:  # conv: (out, in/groups, *kernel) -> fan_out counts the kernel too
        fan_out = weight.shape[0] * weight[0, 0].numel()
    if init in ("he_normal", "he_uniform"):
        variance = 2.0 / fan_in
    elif init == "lecun_normal":
        variance = 1.0 / fan_in
    elif init in ("glorot_uniform", "glorot_normal"):
        variance = 2.0 / (fan_in + fan_out)
    else:
        raise ValueError(f"unknown init {init!r}; allowed: {', '.join(INITS)}")
    with torch.no_grad():
        if init.endswith("uniform"):
            limit = math.sqrt(3.0 * variance)
            weight.uniform_(-limit, limit)
        else:  # inverse-CDF sampling of a normal truncated at +-2 std: one draw per weight
            std = math.sqrt(variance) / _TRUNC_STD_CORRECTION
            edge = math.erf(2.0 / math.sqrt(2.0))  # erf-space image of +-2 standard deviations
            weight.uniform_(-edge, edge).erfinv_().mul_(std * math.sqrt(2.0)).clamp_(-2 * std, 2 * std)
        if getattr(layer, "bias", None) is not None:
            layer.bias.zero_()


class Penalty(NamedTuple):
    """One penalised parameter: the loss gains l1 * sum|p| + l2 * sum(p^2)."""

    param: nn.Parameter
    l1: float
    l2: float


PENALTIES_ATTR = "hyperlab_penalties"


def attach_penalties(model: nn.Module, hidden: list[nn.Module], output: nn.Module | None,
                     l1: Penalties, l2: Penalties) -> None:
    """Record on `model` which parameters carry which L1/L2 coefficients (for regularization_loss)."""
    terms: list[Penalty] = []

    def add(param: torch.Tensor | None, a: float, b: float) -> None:
        if param is not None and (a > 0 or b > 0):
            terms.append(Penalty(param, a, b))

    for layer in hidden:
        add(layer.weight, l1.hidden_kernel, l2.hidden_kernel)
        add(getattr(layer, "bias", None), l1.hidden_bias, l2.hidden_bias)
    if output is not None:
        add(output.weight, l1.output_kernel, l2.output_kernel)
        add(output.bias, l1.output_bias, l2.output_bias)
    # A plain list attribute: nn.Module does not register it, so state_dict and .parameters() are
    # unchanged; .to(device) keeps the same Parameter objects, so the references stay valid.
    object.__setattr__(model, PENALTIES_ATTR, terms)


def regularization_loss(model: nn.Module) -> torch.Tensor | None:
    """The sum of the L1/L2 penalties the spec declared (Keras convention: l2 * sum(w^2), not
    0.5 * l2; l1 * sum|w|), or None when the model has none. Cheap: called once per batch."""
    terms: list[Penalty] | None = getattr(model, PENALTIES_ATTR, None)
    if terms is None:  # a torch.compile'd model keeps the original under _orig_mod
        orig = getattr(model, "_orig_mod", None)
        terms = getattr(orig, PENALTIES_ATTR, None) if orig is not None else None
    if not terms:
        return None
    total: torch.Tensor | None = None
    for param, l1, l2 in terms:
        if l1 > 0:
            total = l1 * param.abs().sum() if total is None else total + l1 * param.abs().sum()
        if l2 > 0:
            total = l2 * param.square().sum() if total is None else total + l2 * param.square().sum()
    return total
