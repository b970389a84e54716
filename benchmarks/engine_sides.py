"""hyperlab's sides of the comparison: the real engine (`hyperlab.engine.fit`), the vectorized
trainer (`hyperlab.vectorized.train_group`), and a hand loop that tries channels_last.

A window of N batches is one `fit` call with one epoch over N x batch examples (a different slice of
the training tensors each window); its time is the engine's own `examples_per_s`, which covers the
training loop only (the evaluation that `fit` does after the epoch is not counted).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hyperlab.data import DataConfig
from hyperlab.data.splits import Splits
from hyperlab.engine import TrainConfig, TrialConfig, fit
from hyperlab.models import build_model, regularization_loss
from hyperlab.vectorized import train_group

EVAL_EXAMPLES = 256  # validation/test examples of a window's splits (evaluation is not timed)


class Data:
    """The training tensors, float32 NCHW in [-1, 1] (what Normalize(0.5, 0.5) gives), and labels."""

    def __init__(self, x: torch.Tensor, y: torch.Tensor, classes: int = 10) -> None:
        self.x, self.y, self.classes = x, y, classes
        self.cursor = 0

    def window_splits(self, examples: int) -> Splits:
        """A Splits whose training set is the next `examples` rows (wrapping around)."""
        if self.cursor + examples > len(self.x):
            self.cursor = 0
        start, self.cursor = self.cursor, self.cursor + examples
        x, y = self.x[start:start + examples], self.y[start:start + examples]
        held_x, held_y = self.x[:EVAL_EXAMPLES], self.y[:EVAL_EXAMPLES]
        return Splits("classification", tuple(self.x.shape[1:]), [str(c) for c in range(self.classes)],
                      x, y, held_x, held_y, held_x, held_y)


def train_config(batch_size: int, precision: str, optimizer: dict, **extra: Any) -> TrainConfig:
    return TrainConfig(epochs=1, batch_size=batch_size, precision=precision, optimizer=optimizer,
                       divergence_factor=None, **extra)


@contextmanager
def nan_fill(enabled: bool) -> Iterator[None]:
    """The engine runs in torch's deterministic mode, which fills every new tensor with NaN
    (torch.utils.deterministic.fill_uninitialized_memory); `enabled=False` measures the engine
    with that fill off (the change proposed in docs/performance.md)."""
    previous = torch.utils.deterministic.fill_uninitialized_memory
    torch.utils.deterministic.fill_uninitialized_memory = enabled
    try:
        yield
    finally:
        torch.utils.deterministic.fill_uninitialized_memory = previous


class EngineWindows:
    """`hyperlab.engine.fit` on the same model window after window (weights carry over)."""

    def __init__(self, spec: dict, data: Data, batch_size: int, precision: str, optimizer: dict,
                 seed: int = 0, fill: bool = True) -> None:
        self.model = build_model(spec, tuple(data.x.shape[1:]), data.classes, seed)
        self.data, self.batch_size, self.fill = data, batch_size, fill
        self.config = train_config(batch_size, precision, optimizer)
        self.calls = 0

    def window(self, steps: int) -> tuple[int, float]:
        examples = steps * self.batch_size
        self.calls += 1
        with nan_fill(self.fill):
            result = fit(self.model, self.data.window_splits(examples), self.config, seed=self.calls,
                         regularization=regularization_loss)
        if result.status != "completed":
            raise RuntimeError(f"engine window: {result.stop_reason}")
        return examples, examples / result.epochs[-1]["examples_per_s"]


class VectorizedWindows:
    """`train_group` on K configs sharing one seed: one window trains all K on the same batches.
    Returns the aggregate examples (K x the batches' examples) so rates compare with one-by-one."""

    def __init__(self, specs: list[dict], trains: list[dict], data: Data, batch_size: int,
                 precision: str) -> None:
        self.data, self.batch_size = data, batch_size
        data_config = DataConfig(dataset="cifar10")  # metadata only: shape (3, 32, 32), 10 classes
        self.configs = [TrialConfig(data=data_config, model=spec,
                                    train=train_config(batch_size, precision, **train))
                        for spec, train in zip(specs, trains, strict=True)]
        self.calls = 0

    def window(self, steps: int) -> tuple[int, float]:
        examples = steps * self.batch_size
        self.calls += 1
        results = train_group(self.configs, [self.calls] * len(self.configs),
                              splits=self.data.window_splits(examples))
        if any(r.status != "completed" for r in results):
            raise RuntimeError(f"vectorized window: {[r.stop_reason for r in results]}")
        # A stacked trial's examples_per_s is over its share of the stack's time (the stack's time / K),
        # so the stack's whole training time is K x examples / examples_per_s.
        trials = len(self.configs)
        seconds = trials * examples / results[0].epochs[-1]["examples_per_s"]
        return examples * trials, seconds


class OneByOneWindows:
    """The K configs of a VectorizedWindows trained one after the other by the engine: one window is
    one engine window of each (aggregate examples over total time). `fill`: see nan_fill."""

    def __init__(self, specs: list[dict], trains: list[dict], data: Data, batch_size: int,
                 precision: str, fill: bool = False) -> None:
        self.sides = [EngineWindows(spec, data, batch_size, precision, train["optimizer"], fill=fill)
                      for spec, train in zip(specs, trains, strict=True)]
        for side, train in zip(self.sides, trains, strict=True):
            side.config = train_config(batch_size, precision, **train)

    def window(self, steps: int) -> tuple[int, float]:
        total_examples, total_seconds = 0, 0.0
        for side in self.sides:
            examples, seconds = side.window(steps)
            total_examples += examples
            total_seconds += seconds
        return total_examples, total_seconds


class ChannelsLastLoop:
    """The engine's hot loop written out (permutation + index_select batches, running sums, one sync)
    with the model and each batch in channels_last: does that memory format help on this CPU?"""

    def __init__(self, spec: dict, data: Data, batch_size: int, precision: str, optimizer: dict) -> None:
        self.model = build_model(spec, tuple(data.x.shape[1:]), data.classes, 0).to(
            memory_format=torch.channels_last)
        self.x = data.x.contiguous(memory_format=torch.channels_last)
        self.y, self.batch_size, self.precision = data.y, batch_size, precision
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=optimizer["lr"],
                                         momentum=optimizer.get("momentum", 0.0))
        self.generator = torch.Generator().manual_seed(0)

    def window(self, steps: int) -> tuple[int, float]:
        model, size = self.model, self.batch_size
        model.train()
        started = time.perf_counter()
        order = torch.randperm(len(self.x), generator=self.generator)[:steps * size]
        loss_sum = torch.zeros(())
        for start in range(0, len(order), size):
            index = order[start:start + size]
            inputs, targets = self.x.index_select(0, index), self.y.index_select(0, index)
            inputs = inputs.contiguous(memory_format=torch.channels_last)
            with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.precision == "bf16"):
                outputs = model(inputs)
            loss = F.cross_entropy(outputs.float(), targets)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            loss_sum += loss.detach()
        loss_sum.item()  # one sync
        return len(order), time.perf_counter() - started


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
