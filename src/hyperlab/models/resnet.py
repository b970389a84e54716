"""kind = "resnet": a small CIFAR-style residual network family for budgeted accuracy studies."""

from __future__ import annotations

from collections import OrderedDict
from typing import TYPE_CHECKING, Literal

from pydantic import Field, PositiveInt, ValidationInfo, field_validator

from hyperlab.errors import UserError
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



class ResNetSpec(SpecBase):
    """stem (3x3 conv, widths[0]) -> stages of residual blocks -> global average pool -> output.

    Stage i has widths[i] channels; every stage after the first halves the resolution in its first
    block (stride 2, 1x1 convolution shortcut). widths [16, 32, 64] with 3 blocks is ResNet-20.
    """

    kind: Literal["resnet"] = "resnet"
    """Model family: CIFAR-style residual network (He et al. 2016, section 4.2)."""

    widths: list[PositiveInt] = Field(default=[16, 32, 64], min_length=1)
    """Channels of each stage; the stem convolution has widths[0] channels."""

    blocks: PositiveInt | list[PositiveInt] = 1
    """Residual blocks per stage: one number for every stage, or one per stage (same length as
    widths). 3 per stage with widths [16, 32, 64] is ResNet-20."""

    batchnorm: bool = True
    """Batch norm after every convolution (the convolutions then have no bias)."""

    activation: Activation = "relu"
    """Activation inside the blocks and after the stem."""

    dropout: Rate = 0.0
    """Dropout rate before the output layer (0: none)."""

    init: Init = "default"
    """Initialisation of the convolutions: he_normal, he_uniform, glorot_uniform, glorot_normal,
    lecun_normal (biases zero) or default (torch's own)."""

    output_init: Init | None = None
    """Initialisation of the output layer; None: the same as `init`."""

    l1: Penalties = Penalties()
    """L1 penalty coefficients per layer group (hidden = every convolution)."""

    l2: Penalties = Penalties()
    """L2 penalty coefficients per layer group, Keras convention (loss += l2 * sum(w^2))."""

    @field_validator("blocks")
    @classmethod
    def _one_count_per_stage(cls, value: int | list[int], info: ValidationInfo) -> int | list[int]:
        widths = info.data.get("widths")
        if isinstance(value, list) and widths is not None and len(value) != len(widths):
            raise invalid(f"a list needs one count per stage ({len(widths)} widths), got {len(value)}")
        return value

    def blocks_per_stage(self) -> list[int]:
        """The number of blocks in each stage."""
        return list(self.blocks) if isinstance(self.blocks, list) else [self.blocks] * len(self.widths)


def build_resnet(spec: ResNetSpec, input_shape: tuple[int, ...], n_outputs: int) -> nn.Module:
    """Build the network as an nn.Sequential: stem, stem_bn, stem_act, stage1_block1, ..., gap, output."""
    from torch import nn

    from hyperlab.models._blocks import GlobalAvgPool, ResidualBlock

    if len(input_shape) != 3:
        raise UserError(f"model.kind: resnet needs an image input (C, H, W), got shape {tuple(input_shape)}")
    modules: OrderedDict[str, nn.Module] = OrderedDict()
    stem = nn.Conv2d(input_shape[0], spec.widths[0], 3, 1, 1, bias=not spec.batchnorm)
    modules["stem"] = stem
    if spec.batchnorm:
        modules["stem_bn"] = nn.BatchNorm2d(spec.widths[0])
    modules["stem_act"] = make_activation(spec.activation)
    hidden: list[nn.Module] = [stem]
    channels = spec.widths[0]
    for stage, (width, count) in enumerate(zip(spec.widths, spec.blocks_per_stage(), strict=True), 1):
        for block in range(1, count + 1):
            stride = 2 if stage > 1 and block == 1 else 1
            module = ResidualBlock(channels, width, stride, spec.batchnorm, spec.activation)
            modules[f"stage{stage}_block{block}"] = module
            hidden.extend(module.convs())
            channels = width
    modules["gap"] = GlobalAvgPool()
    if spec.dropout > 0:
        modules["dropout"] = nn.Dropout(spec.dropout)
    output = nn.Linear(channels, n_outputs)
    modules["output"] = output
    for layer in hidden:
        init_layer(layer, spec.init)
    init_layer(output, spec.output_init or spec.init)
    model = nn.Sequential(modules)
    attach_penalties(model, hidden, output, spec.l1, spec.l2)
    return model
