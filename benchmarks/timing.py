"""Interleaved timing windows on a shared, noisy machine, and the matmul peak measured alongside.

Every compared "side" runs one window per round, round after round (A B C A B C ...), so a burst of
load from another process hits all sides alike; the figure kept per side is the median over rounds.
A window is N batches (N calibrated once per side so that a window takes about `target` seconds).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import torch

Window = Callable[[int], tuple[int, float]]  # steps -> (examples processed, seconds)


@dataclass
class Side:
    """One compared configuration: `window(steps)` runs `steps` batches and times them."""

    name: str
    window: Window
    steps: int = 0  # batches per window, set by calibrate()
    rates: list[float] = field(default_factory=list)  # examples/s of each window
    meta: dict = field(default_factory=dict)

    @property
    def median(self) -> float:
        return statistics.median(self.rates) if self.rates else float("nan")

    @property
    def spread(self) -> tuple[float, float]:
        """(min, max) examples/s over the windows."""
        return (min(self.rates), max(self.rates)) if self.rates else (float("nan"), float("nan"))


def calibrate(side: Side, target: float, probe_steps: int = 2, max_steps: int = 2000) -> None:
    """Pick the batches per window so one window takes about `target` seconds (first probe = warm-up)."""
    side.window(probe_steps)  # warm-up: allocator, kernels' first calls, lazy imports
    examples, seconds = side.window(probe_steps)
    per_step = seconds / probe_steps
    side.steps = max(2, min(max_steps, round(target / max(per_step, 1e-6))))


def interleave(sides: list[Side], rounds: int) -> None:
    """Run `rounds` rounds, one window of every side per round, in a rotating order."""
    for r in range(rounds):
        shift = r % len(sides)
        for side in sides[shift:] + sides[:shift]:
            examples, seconds = side.window(side.steps)
            side.rates.append(examples / seconds)


def matmul_side(dtype: torch.dtype, size: int = 1024) -> Side:
    """The dense matmul peak (GFLOP/s reported as 'examples/s' = FLOPs/s; one example = one FLOP)."""
    a = torch.randn(size, size).to(dtype)
    b = torch.randn(size, size).to(dtype)
    flops = 2 * size**3

    def window(steps: int) -> tuple[int, float]:
        started = time.perf_counter()
        for _ in range(steps):
            torch.mm(a, b)
        return flops * steps, time.perf_counter() - started

    return Side(f"matmul {size}x{size} {str(dtype).removeprefix('torch.')}", window)
