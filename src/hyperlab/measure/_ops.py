"""What one call of a leaf module costs beyond its matmuls, by operation type (the counting rules).

FlopCounterMode counts matrix multiplications and convolutions (2 FLOPs per multiply-accumulate) but
not the element-wise work around them. These rules count that work, per example, from the module's
hyper-parameters and the shapes of one call. Every rule is documented in docs/models.md.
"""

from __future__ import annotations

import math

import torch
from torch import nn

from hyperlab.models._blocks import Add

# The keys of flops_by_op, in the order tables show them.
OPS: tuple[str, ...] = (
    "mac",  # 2 FLOPs (a multiply and an add) per multiply-accumulate of conv / dense / matmul
    "bias_add",  # 1 per output element of a conv / dense layer with a bias
    "batchnorm",  # 2 per element: inference form y = x * scale + shift
    "activation",  # 1 per element (relu: one comparison; tanh, sigmoid, gelu... also counted as 1)
    "pool_compare",  # max pooling: window - 1 comparisons per output element
    "pool_add",  # average pooling: window - 1 additions per output element
    "pool_mul",  # average pooling: 1 multiplication (by 1 / window) per output element
    "residual_add",  # 1 per element of a residual sum
)

_ACTIVATIONS = (
    nn.ReLU, nn.ReLU6, nn.LeakyReLU, nn.PReLU, nn.ELU, nn.SELU, nn.CELU, nn.GELU, nn.SiLU, nn.Mish,
    nn.Tanh, nn.Sigmoid, nn.Hardtanh, nn.Hardswish, nn.Hardsigmoid, nn.Softplus,
)
_LINEAR = (nn.Linear, nn.Bilinear, nn.Conv1d, nn.Conv2d, nn.Conv3d,
           nn.ConvTranspose1d, nn.ConvTranspose2d, nn.ConvTranspose3d)
_MAXPOOL = (nn.MaxPool1d, nn.MaxPool2d, nn.MaxPool3d)
_AVGPOOL = (nn.AvgPool1d, nn.AvgPool2d, nn.AvgPool3d)
_ADAPTIVE_AVG = (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d, nn.AdaptiveAvgPool3d)
_ADAPTIVE_MAX = (nn.AdaptiveMaxPool1d, nn.AdaptiveMaxPool2d, nn.AdaptiveMaxPool3d)
# Modules that do no arithmetic at inference (dropout is the identity in eval mode).
_FREE = (nn.Identity, nn.Flatten, nn.Unflatten, nn.Dropout, nn.Dropout1d, nn.Dropout2d, nn.Dropout3d,
         nn.AlphaDropout)


def leaf_ops(module: nn.Module, inputs: tuple, output: torch.Tensor) -> dict[str, int] | None:
    """The non-matmul FLOPs of one call of `module` (batch of one example) by operation type, or None
    when the module type has no counting rule (its element-wise work is then not counted)."""
    out = output.numel()
    if isinstance(module, _LINEAR):
        return {"bias_add": out if module.bias is not None else 0}
    if isinstance(module, nn.modules.batchnorm._BatchNorm):
        return {"batchnorm": 2 * out}
    if isinstance(module, _ACTIVATIONS):
        return {"activation": out}
    if isinstance(module, Add):
        return {"residual_add": out}
    if isinstance(module, _MAXPOOL):
        return {"pool_compare": out * (_window(module) - 1)}
    if isinstance(module, _AVGPOOL):
        return {"pool_add": out * (_window(module) - 1), "pool_mul": out}
    if isinstance(module, _ADAPTIVE_AVG + _ADAPTIVE_MAX):
        spatial = tuple(inputs[0].shape[-_dims(module):])  # (N, C, *spatial)
        channels = inputs[0][0].numel() // math.prod(spatial)
        read, written = _adaptive_windows(spatial, module.output_size)
        extra = channels * (read - written)  # window - 1 per output element, summed exactly
        if isinstance(module, _ADAPTIVE_MAX):
            return {"pool_compare": extra}
        return {"pool_add": extra, "pool_mul": channels * written}
    if isinstance(module, _FREE):
        return {}
    return None


def _window(pool: nn.Module) -> int:
    """Elements in one pooling window."""
    kernel = pool.kernel_size
    return kernel ** _dims(pool) if isinstance(kernel, int) else math.prod(kernel)


def _dims(pool: nn.Module) -> int:
    """Spatial dimensions a pooling module works on (1, 2 or 3)."""
    one = (nn.MaxPool1d, nn.AvgPool1d, nn.AdaptiveAvgPool1d, nn.AdaptiveMaxPool1d)
    two = (nn.MaxPool2d, nn.AvgPool2d, nn.AdaptiveAvgPool2d, nn.AdaptiveMaxPool2d)
    return 1 if isinstance(pool, one) else 2 if isinstance(pool, two) else 3


def _adaptive_windows(size: tuple[int, ...], output_size: object) -> tuple[int, int]:
    """(elements read summed over all output positions, number of output positions) of an adaptive
    pool over one channel, using torch's windows [floor(i*n/m), ceil((i+1)*n/m))."""
    if not isinstance(output_size, tuple | list):
        output_size = (output_size,) * len(size)
    read, written = 1, 1
    for n, m in zip(size, output_size, strict=True):
        m = n if m is None else m
        read *= sum(math.ceil((i + 1) * n / m) - (i * n) // m for i in range(m))
        written *= m
    return read, written
