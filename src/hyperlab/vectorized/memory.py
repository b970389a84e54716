"""How many trials fit in one stack: a trial's memory footprint (estimated from its model's shapes)
and the device's free memory, so a stack's size follows the machine, not a constant.

    footprint = trial_footprint(config)                 # bytes one trial of a stack needs
    capacity = stack_capacity(footprint, "cpu")         # trials per stack on this machine, now

The estimate counts, per trial, in float32: the weights, their gradients, the optimizer's state
(SGD momentum: 1 copy, Adam: 2), a copy of the best weights (early stopping), a batch's activations
twice (kept for the backward pass, and their gradients), an evaluation chunk's activations, and the
trial's own input batch (a stack whose trials do not share batches gathers one per trial). The data
set itself is shared by every trial of a run and not counted. `hyperlab plan` prints the estimate
per stack; the runner (runner/stacked.py) sizes its stacks with it. The planner can reuse
`trial_footprint` to refuse a run that cannot fit (it only needs a config).
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import torch
from torch import nn

from hyperlab.engine.determinism import resolve_device
from hyperlab.measure import build_on_meta
from hyperlab.vectorized.support import _describe

FLOAT_BYTES = 4
OPTIMIZER_SLOTS = {"sgd": 1, "adam": 2, "adamw": 2}  # state tensors per parameter
MEMORY_SHARE = 0.5  # of the free memory, what the stacks of one process may take (the rest: the OS,
# the data, other workers, allocator slack); an estimate off by 2x still fits
DEFAULT_EVAL_BATCH = 1024


@dataclass(frozen=True)
class Footprint:
    """One trial's share of a stack's memory, in bytes, and the parts it adds up from."""

    params: int  # parameters of the trial's model
    state_bytes: int  # weights, gradients, optimizer state, best weights
    activation_bytes: int  # one training batch forward + backward, and one evaluation chunk
    input_bytes: int  # its own input batch (zero while the stack shares batches: counted once)

    @property
    def bytes(self) -> int:
        return self.state_bytes + self.activation_bytes + self.input_bytes


def trial_footprint(config: Any, eval_batch_size: int = DEFAULT_EVAL_BATCH,
                    shared: bool = False) -> Footprint:
    """The estimated memory one trial of `config` takes inside a stack (see the module docstring).
    `shared`: the stack's trials share their batches (one seed), so no input batch per trial."""
    info = _describe(config.data.model_dump_json())
    outputs = config.train.loss.output_width(len(info.classes))
    params, activations, inputs = _shapes(json.dumps(config.model.model_dump(mode="json"), sort_keys=True),
                                          tuple(int(s) for s in info.input_shape), outputs)
    slots = OPTIMIZER_SLOTS.get(config.train.optimizer.name, 2)
    state = params * FLOAT_BYTES * (2 + slots + 1)
    batch = config.train.batch_size
    activation = (2 * batch * activations + min(eval_batch_size, 4096) * activations) * FLOAT_BYTES
    own_input = 0 if shared else 2 * batch * inputs * FLOAT_BYTES  # the gathered batch and its augmented copy
    return Footprint(params, state, activation, own_input)


@lru_cache(maxsize=128)
def _shapes(model_json: str, input_shape: tuple[int, ...], n_outputs: int) -> tuple[int, int, int]:
    """(parameters, activation values of every leaf layer per example, input values per example) of
    the model a spec builds, from one forward pass on the meta device (no memory, no weights)."""
    model = build_on_meta(json.loads(model_json), input_shape, n_outputs)
    total = [0]

    def count(_module: nn.Module, _inputs: tuple, output: object) -> None:
        if isinstance(output, torch.Tensor):
            total[0] += output[0].numel()

    leaves = [m for m in model.modules() if next(iter(m.children()), None) is None]
    hooks = [m.register_forward_hook(count) for m in leaves]
    try:
        with torch.no_grad():
            model.eval()(torch.zeros((1, *input_shape), device="meta"))
    finally:
        for hook in hooks:
            hook.remove()
    inputs = 1
    for size in input_shape:
        inputs *= size
    return sum(p.numel() for p in model.parameters()), total[0], inputs


def free_memory(device: str | torch.device) -> int:
    """Bytes the device can give now: CUDA's free memory (torch.cuda.mem_get_info), else the
    machine's available RAM (/proc/meminfo's MemAvailable, or os.sysconf's available pages)."""
    resolved = resolve_device(str(device)) if isinstance(device, str) else device
    if resolved.type == "cuda":
        free, _total = torch.cuda.mem_get_info(resolved)
        return int(free)
    return available_ram()


def available_ram() -> int:
    try:
        with open("/proc/meminfo", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):  # not POSIX: assume a small machine
        return 2 * 1024**3


def stack_capacity(footprint: int, free: int, share: float = MEMORY_SHARE) -> int:
    """How many trials of `footprint` bytes one stack may hold in `share` of `free` bytes (at least 1)."""
    return max(1, int(free * share) // max(footprint, 1))
