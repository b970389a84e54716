"""kind = "sequential": a readable list of layers ("conv 32 k3", "bn", "relu", "maxpool 2", ...)."""

from __future__ import annotations

import math
from collections import Counter, OrderedDict
from typing import TYPE_CHECKING, Literal

from pydantic import ValidationError, field_validator
from pydantic_core import InitErrorDetails

from hyperlab.errors import UserError
from hyperlab.models._common import (
    Init,
    Penalties,
    SpecBase,
    attach_penalties,
    init_layer,
    invalid,
    make_activation,
)
from hyperlab.models._layers import Layer, parse_layer

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    from torch import nn



class SequentialSpec(SpecBase):
    """Layers applied in order; the output layer is appended unless the list ends with one."""

    kind: Literal["sequential"] = "sequential"
    """Model family: a stack of layers written as strings."""

    layers: list[str]
    """Entries such as "conv 32 k3 s1 p1", "maxpool 2", "bn", "relu", "dropout 0.2", "flatten",
    "dense 100", "res 64 s2", "gap", "output" (grammar: docs/models.md). The output layer (dense to
    the number of outputs) is appended unless the last entry is "output" or a "dense N"."""

    init: Init = "default"
    """Weight initialisation of the conv/dense layers: he_normal, he_uniform, glorot_uniform,
    glorot_normal, lecun_normal (biases zero) or default (torch's own)."""

    output_init: Init | None = None
    """Initialisation of the output layer; None: the same as `init`."""

    l1: Penalties = Penalties()
    """L1 penalty coefficients per layer group (hidden = every conv/dense before the output layer)."""

    l2: Penalties = Penalties()
    """L2 penalty coefficients per layer group, Keras convention (loss += l2 * sum(w^2))."""

    @field_validator("layers")
    @classmethod
    def _parse_every_entry(cls, layers: list[str]) -> list[str]:
        errors: list[InitErrorDetails] = []
        for i, text in enumerate(layers):
            try:
                layer = parse_layer(text)
            except ValueError as exc:
                errors.append(InitErrorDetails(type=invalid(str(exc)), loc=(i,), input=text))
                continue
            if layer.type == "output" and i != len(layers) - 1:
                message = "'output' is the output layer: it can only be the last entry"
                errors.append(InitErrorDetails(type=invalid(message), loc=(i,), input=text))
        if errors:  # every bad entry at once, each at its own index (model.layers[3])
            raise ValidationError.from_exception_data(cls.__name__, errors)
        return [" ".join(text.lower().split()) for text in layers]  # canonical spacing and case

    def parsed(self) -> list[Layer]:
        """The entries as parsed Layer records."""
        return [parse_layer(text) for text in self.layers]


def build_sequential(spec: SequentialSpec, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """Build the stack, following the shape (C, H, W) or (F,) to size every layer.

    Raises UserError naming the entry (model.layers[i]) when a layer does not fit the shape it gets.
    """
    from torch import nn

    from hyperlab.models._blocks import ResidualBlock

    modules: OrderedDict[str, nn.Module] = OrderedDict()
    counts: Counter[str] = Counter()
    hidden: list[nn.Module] = []  # conv/dense layers that get `init` and the hidden penalties
    shape = tuple(input_shape)
    entries = spec.parsed()
    has_output = bool(entries) and entries[-1].type in ("output", "dense")

    def name(kind: str) -> str:
        counts[kind] += 1
        return f"{kind}{counts[kind]}"

    for i, layer in enumerate(entries):
        where = f"model.layers[{i}]: {spec.layers[i]!r}"
        if has_output and i == len(entries) - 1:
            if layer.type == "dense" and layer.size != n_outputs:
                raise UserError(f"{where}: a final dense layer is the output layer and needs "
                                f"{n_outputs} units (the number of outputs); write 'output' instead")
            if len(shape) != 1:
                raise UserError(f"{where}: needs a flat input, got shape {shape}; put 'flatten' before it")
            break
        module, shape = _make(layer, shape, where)
        modules[name(layer.type)] = module
        if isinstance(module, nn.Linear | nn.Conv2d):
            hidden.append(module)
        elif isinstance(module, ResidualBlock):
            hidden.extend(module.convs())
    if len(shape) != 1:
        raise UserError(f"model.layers: the output layer needs a flat input, but the last layer gives "
                        f"shape {shape}; end the list with 'flatten' or 'gap'")
    output = nn.Linear(shape[0], n_outputs)
    modules["output"] = output
    for layer in hidden:
        init_layer(layer, spec.init)
    init_layer(output, spec.output_init or spec.init)
    model = nn.Sequential(modules)
    attach_penalties(model, hidden, output, spec.l1, spec.l2)
    return model


def _make(layer: Layer, shape: tuple[int, ...], where: str) -> tuple[nn.Module, tuple[int, ...]]:
    """The module for one entry and the per-example shape it outputs."""
    from torch import nn

    from hyperlab.models._blocks import GlobalAvgPool, ResidualBlock, conv_output_size

    kind = layer.type
    if kind in ("conv", "maxpool", "avgpool", "gap", "res") and len(shape) != 3:
        raise UserError(f"{where}: needs an image input (C, H, W), got shape {shape}")
    if kind == "dense" and len(shape) != 1:
        raise UserError(f"{where}: needs a flat input, got shape {shape}; put 'flatten' before it")
    match kind:
        case "conv":
            channels, height, width = shape
            module: nn.Module = nn.Conv2d(channels, layer.size, layer.kernel, layer.stride, layer.padding)
            if layer.padding == "same":
                out = (layer.size, height, width)
            else:
                out = (layer.size, *(conv_output_size(s, layer.kernel, layer.stride, layer.padding)
                                     for s in (height, width)))
        case "maxpool" | "avgpool":
            pool = nn.MaxPool2d if kind == "maxpool" else nn.AvgPool2d
            module = pool(layer.size, layer.stride, layer.padding)
            out = (shape[0], *(conv_output_size(s, layer.size, layer.stride, layer.padding)
                               for s in shape[1:]))
        case "res":
            module = ResidualBlock(shape[0], layer.size, layer.stride, layer.batchnorm)
            out = (layer.size, *(conv_output_size(s, 3, layer.stride, 1) for s in shape[1:]))
        case "gap":
            module, out = GlobalAvgPool(), (shape[0],)
        case "bn":
            module = nn.BatchNorm2d(shape[0]) if len(shape) == 3 else nn.BatchNorm1d(shape[0])
            out = shape
        case "dropout":
            module, out = nn.Dropout(layer.rate), shape
        case "flatten":
            module, out = nn.Flatten(), (math.prod(shape),)
        case "dense":
            module, out = nn.Linear(shape[0], layer.size), (layer.size,)
        case _:  # an activation
            module, out = make_activation(kind), shape
    if min(out) < 1:
        raise UserError(f"{where}: the input of shape {shape} is too small (output shape {out})")
    return module, out
