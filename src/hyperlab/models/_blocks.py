"""Building blocks shared by the sequential and resnet kinds."""

from __future__ import annotations

import torch
from torch import nn

from hyperlab.models._common import make_activation


class Add(nn.Module):
    """x + y as a module, so the measurement hooks see (and count) the residual addition."""

    def forward(self, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return x + y


class GlobalAvgPool(nn.AdaptiveAvgPool2d):
    """Global average pooling: (N, C, H, W) -> (N, C), like Keras' GlobalAveragePooling2D."""

    def __init__(self) -> None:
        super().__init__(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x).flatten(1)  # (N, C, 1, 1) -> (N, C)


class ResidualBlock(nn.Module):
    """The basic block of CIFAR ResNets: act(bn(conv3x3(act(bn(conv3x3(x))))) + shortcut(x)).

    The first convolution carries the stride. The shortcut is the identity when the shape is kept,
    else a 1x1 convolution with the same stride (followed by batch norm when the block has it).
    Convolutions have no bias when batch norm follows them (the norm's shift replaces it).
    """

    def __init__(self, in_channels: int, out_channels: int, stride: int = 1, batchnorm: bool = True,
                 activation: str = "relu") -> None:
        super().__init__()
        bias = not batchnorm
        self.conv1 = nn.Conv2d(in_channels, out_channels, 3, stride, 1, bias=bias)
        self.bn1 = nn.BatchNorm2d(out_channels) if batchnorm else nn.Identity()
        self.act1 = make_activation(activation)
        self.conv2 = nn.Conv2d(out_channels, out_channels, 3, 1, 1, bias=bias)
        self.bn2 = nn.BatchNorm2d(out_channels) if batchnorm else nn.Identity()
        if stride != 1 or in_channels != out_channels:
            shortcut: list[nn.Module] = [nn.Conv2d(in_channels, out_channels, 1, stride, bias=bias)]
            if batchnorm:
                shortcut.append(nn.BatchNorm2d(out_channels))
            self.shortcut: nn.Module = nn.Sequential(*shortcut)
        else:
            self.shortcut = nn.Identity()
        self.add = Add()
        self.act2 = make_activation(activation)

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # (N, C_in, H, W) -> (N, C_out, H/s, W/s)
        out = self.act1(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return self.act2(self.add(out, self.shortcut(x)))

    def convs(self) -> list[nn.Conv2d]:
        """The block's convolutions (the hidden kernels for L1/L2 penalties and initialisation)."""
        return [m for m in self.modules() if isinstance(m, nn.Conv2d)]


def conv_output_size(size: int, kernel: int, stride: int, padding: int) -> int:
    """Spatial size after a convolution or pooling window (no dilation)."""
    return (size + 2 * padding - kernel) // stride + 1
