"""Checkpoints of stacked trials in the engine's own format, so `train_trial` resumes them.

What the engine saves for a trial (hyperlab.engine.TrialBook.save) is rebuilt here from the stack:
the trial's weights under its model's names, a torch SGD state dict (momentum buffers by parameter
index, param_groups with the current lr), and the generators: the trial's dropout generator stands in
for the engine's global torch generator (dropout is its only consumer), the data-order and
augmentation generators are the ones the trial's seed drives here, and the python / numpy states are
those of a freshly seeded trial (the built-in model kinds never draw from them).
"""

from __future__ import annotations

import random
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import torch

from hyperlab.engine.determinism import derive_seed, global_rng_state
from hyperlab.vectorized.optim import StackedSGD  # or its subclass StackedAdam

if TYPE_CHECKING:
    from hyperlab.vectorized.state import TrialState


def fresh_python_rng_state(seed: int) -> dict:
    """The JSON part of `global_rng_state()` right after the engine seeded a trial; the process's
    own python and numpy generators are left as they were."""
    saved_python, saved_numpy = random.getstate(), np.random.get_state()
    try:
        global_seed = derive_seed(seed, "global")
        random.seed(global_seed)
        np.random.seed(global_seed % 2**32)
        return global_rng_state()[1]
    finally:
        random.setstate(saved_python)
        np.random.set_state(saved_numpy)


# (trial's folder, tensors on the CPU, checkpoint document) -> None: writes one checkpoint, now or later
CheckpointWriter = Callable[[Path, dict[str, torch.Tensor], dict], None]


def save_trial(state: TrialState, weights: dict[str, torch.Tensor], optimizer: StackedSGD, k: int,
               parameter_names: list, data_order: torch.Tensor, augment: torch.Tensor | None,
               seconds: float, writer: CheckpointWriter | None = None) -> None:
    """Write trial k's checkpoint to `state.workdir` with the engine's writer (TrialBook.save), or
    hand it to `writer` as a snapshot (CPU copies of the tensors, a copy of the history): training
    may go on while it is written, and what is written is this epoch's state."""
    torch_optimizer = state.config.train.optimizer.build(state.model.parameters())
    for group in torch_optimizer.param_groups:
        group["lr"] = float(optimizer.lr[k])
    state_dict = torch_optimizer.state_dict()
    for i in range(len(parameter_names)):
        per_param = optimizer.torch_state(i, k)
        if per_param is not None:
            state_dict["state"][i] = per_param
    rng = {"rng/torch": state.dropout.get_state(), "rng/data_order": data_order}
    if augment is not None:
        rng["rng/augment"] = augment
    rngs = (rng, fresh_python_rng_state(state.seed))
    if writer is None:
        state.book.save(weights, state_dict, rngs, seconds)
        return
    if state.workdir is None:
        return
    tensors, document = state.book.checkpoint(weights, state_dict, rngs, seconds)
    snapshot = {name: t.detach().to("cpu", copy=True) for name, t in tensors.items()}
    writer(state.workdir, snapshot, {**document, "history": [dict(r) for r in document["history"]]})
    state.book.saved_epoch = state.book.epoch
