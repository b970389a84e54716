"""The stacked training step captured as a CUDA graph: one replay per batch instead of a few hundred
kernel launches from Python, which is what keeps a GPU idle when every trial is small.

    reason = why_not_captured(group)       # None: the step can be captured on this stack
    graph = StepGraph(group)               # records the step on first use, replays it afterwards
    ran = graph.run(index)                 # False: run this step eagerly (and graph.reason says why)

What a captured step may not contain decides `why_not_captured`: anything that draws from a CPU
generator each step (dropout masks and augmentation are drawn per trial from the CPU generators the
engine uses, so that every trial gets the numbers it gets alone), anything that reads a value back
to the host (batch norm's cumulative average; Adam's bias corrections, computed on the host from the
step count), a learning rate that changes inside an epoch (per-batch schedules), and bf16 autocast
(its weight cache does not survive a replay). Only full-size batches replay; an epoch's last, short
batch runs eagerly. A stack that changes (a trial leaves) is captured again. Any error while
capturing falls back to the eager step for the rest of the stack, with the error as the reason: the
captured step records without executing, so a failed capture has changed nothing.

On a CPU nothing here runs: the reason is "not on CUDA" and the eager step is the only step.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from functools import lru_cache
from typing import Any

import torch

from hyperlab.measure import build_on_meta
from hyperlab.vectorized.layers import StackedBatchNorm, StackedDropout
from hyperlab.vectorized.optim import StackedAdam

ENV_SWITCH = "HYPERLAB_CUDA_GRAPH"  # "0" turns capture off (a comparison, or a driver that misbehaves)
WARMUP_STEPS = 3  # eager steps on a side stream before capture (optimizer state, lazy cuBLAS handles)


def why_not_captured(group: Any, device_type: str | None = None) -> str | None:
    """Why the stack `group` (vectorized.train._Group) cannot run its step as a CUDA graph, or None.
    `device_type` stands in for the group's device (tests ask on a CPU what CUDA would do)."""
    if (device_type or group.device.type) != "cuda":
        return "not on CUDA"
    if os.environ.get(ENV_SWITCH, "1") == "0":
        return f"turned off ({ENV_SWITCH}=0)"
    if not hasattr(torch.cuda, "CUDAGraph"):
        return "this torch has no CUDA graphs"
    if group.cfg.precision != "fp32":
        return f"precision {group.cfg.precision}: autocast's weight cache does not survive a replay"
    if isinstance(group.optimizer, StackedAdam):
        return "Adam's bias corrections are computed on the host each step"
    if any(s.config.train.schedule.per_batch for s in group.states):
        return "a per-batch learning-rate schedule changes the rate inside an epoch"
    if group.augmenters:
        return "augmentation draws from CPU generators each step"
    for layer in group.net.layers:
        if isinstance(layer, StackedDropout) and any(layer.rates):
            return "dropout masks are drawn from each trial's CPU generator each step"
        if isinstance(layer, StackedBatchNorm) and layer.momentum is None:
            return "batch norm's cumulative average reads the step count on the host"
    return None


def draws_each_step(config: Any) -> bool:
    """Whether a trial draws from a CPU generator every step (dropout, augmentation): a stack holding
    one cannot be captured, so on CUDA such trials stack apart from the others (runner.stacked)."""
    if config.train.augment is not None:
        return True
    from hyperlab.vectorized.support import _describe

    info = _describe(config.data.model_dump_json())
    return _has_dropout(json.dumps(config.model.model_dump(mode="json"), sort_keys=True),
                        tuple(int(s) for s in info.input_shape),
                        config.train.loss.output_width(len(info.classes)))


@lru_cache(maxsize=256)
def _has_dropout(model_json: str, input_shape: tuple[int, ...], n_outputs: int) -> bool:
    model = build_on_meta(json.loads(model_json), input_shape, n_outputs)  # shapes only, no weights
    return any(isinstance(m, torch.nn.Dropout) and m.p > 0 for m in model.modules())


class StepGraph:
    """One stack's captured step. `body(index)` is the step (gather the batch at `index`, forward,
    loss, backward, optimizer step, metrics accumulated into the stack's tensors); it is recorded
    once, with `index` a buffer this object owns, and replayed after copying each step's index in."""

    def __init__(self, body: Callable[[torch.Tensor], None]) -> None:
        self.body = body
        self.graph: Any = None
        self.index: torch.Tensor | None = None
        self.reason: str | None = None  # set when capture failed: the stack then stays eager
        self.replays = 0

    @property
    def failed(self) -> bool:
        return self.reason is not None

    def run(self, index: torch.Tensor, zero_grad: Callable[[], None]) -> bool:
        """Run the step for the batch at `index` as a replay (recording it first if need be); False
        when the caller must run it eagerly (capture failed now or before)."""
        if self.failed:
            return False
        if self.graph is None:
            try:
                self._record(index, zero_grad)
            except Exception as error:  # noqa: BLE001 - any failure means: stay eager, and say why
                self.graph, self.index = None, None
                self.reason = f"capture failed: {type(error).__name__}: {error}"
                return False
        assert self.index is not None
        self.index.copy_(index, non_blocking=True)
        self.graph.replay()
        self.replays += 1
        return True

    def _record(self, index: torch.Tensor, zero_grad: Callable[[], None]) -> None:
        self.index = index.clone()
        zero_grad()  # the graph's backward allocates the gradients it then rewrites in every replay
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            self.body(self.index)
        self.graph = graph


def side_stream_step(step: Callable[..., torch.Tensor], *args: Any) -> torch.Tensor:
    """`step(*args)` as an eager warm-up step on a side stream (what torch asks of the steps before a
    capture, so lazily created state, e.g. cuBLAS workspaces, is not created on the capture stream)."""
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(stream):
        out = step(*args)
    torch.cuda.current_stream().wait_stream(stream)
    return out
