"""Dropout masks drawn on the CPU on every device, so a trial's masks do not depend on where it runs.

On a CPU, `nn.Dropout` draws its mask with `bernoulli_` from torch's default CPU generator, which
the engine seeds per trial (`derive_seed(seed, "global")`) and checkpoints; the stack
(hyperlab.vectorized) draws each trial's masks with the same call from that trial's own CPU
generator. On CUDA `nn.Dropout` would use a fused kernel on the CUDA generator instead: other masks,
so the engine and the stack (and a CPU and a CUDA run) would train different networks. `HostDropout`
is torch's CPU dropout, drawn on the CPU and moved to the device.
"""

from __future__ import annotations

import torch
from torch import nn


class HostDropout(nn.Module):
    """nn.Dropout(p) with its mask drawn on the CPU default generator (torch's CPU `_dropout`)."""

    def __init__(self, p: float) -> None:
        super().__init__()
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0:
            return x
        if self.p == 1:
            return x * torch.zeros_like(x)
        noise = torch.empty(x.shape, dtype=x.dtype).bernoulli_(1 - self.p).div_(1 - self.p)
        return x * noise.to(x.device, non_blocking=True)

    def extra_repr(self) -> str:
        return f"p={self.p}"


def draw_dropout_on_host(model: nn.Module) -> int:
    """Replace every plain `nn.Dropout` in `model` by a HostDropout of the same rate; returns how many."""
    replaced = 0
    for parent in model.modules():
        for name, child in list(parent.named_children()):
            if type(child) is nn.Dropout and not child.inplace:
                setattr(parent, name, HostDropout(child.p))
                replaced += 1
    return replaced
