"""Seeds, devices and the process-wide torch settings a reproducible trial needs.

Every random stream of a trial is seeded from the trial seed alone, each with its own purpose string,
so that changing one hyperparameter never shifts another stream: the data order is the same for every
variant of a study (paired comparisons), and turning augmentation on does not change the batches.
"""

from __future__ import annotations

import hashlib
import os
import random
import warnings
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

# cuBLAS is deterministic only with a fixed workspace, read once when CUDA creates its handle: set at
# import, before any hyperlab code can touch CUDA (a caller's own setting is kept).
CUBLAS_WORKSPACE = ":4096:8"
os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)


def derive_seed(seed: int, purpose: str) -> int:
    """A 63-bit seed for one stream of a trial ("model", "data order", "augment", "global")."""
    digest = hashlib.sha256(f"{seed}/{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def resolve_device(name: str) -> torch.device:
    """`auto` -> cuda when available, else cpu. Asking for cuda without one is an error."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise RuntimeError("device is 'cuda' but torch sees no CUDA device")
    return torch.device(name)


def set_threads(threads: int | None) -> None:
    """Torch's CPU threads for this process (None: leave torch's default). Called once per process
    by whoever owns it (the runner, a worker); the engine never changes it per trial."""
    if threads is not None and torch.get_num_threads() != threads:
        torch.set_num_threads(threads)


def restore_generator(generator: torch.Generator, state: torch.Tensor, name: str) -> None:
    """Set a checkpointed generator state. A state of another device's generator (a trial resumed on
    CUDA from a CPU checkpoint, or back) cannot be set: the stream then goes on from the trial's fresh
    seed, with a warning (the trial records the change of numerics at that epoch anyway)."""
    try:
        generator.set_state(state)
    except RuntimeError:
        warnings.warn(f"the checkpoint's {name} generator belongs to another device; {name} continues "
                      "from a fresh stream", RuntimeWarning, stacklevel=2)


def seed_global_rngs(seed: int) -> None:
    """Seed the process-wide generators (torch CPU + CUDA for dropout, python, numpy for user code)."""
    torch.manual_seed(seed)
    random.seed(seed)
    np.random.seed(seed % 2**32)


def global_rng_state() -> tuple[dict[str, torch.Tensor], dict]:
    """The process-wide generators' states: tensors (torch) and JSON (python, numpy)."""
    tensors = {"rng/torch": torch.get_rng_state()}
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        for index, state in enumerate(torch.cuda.get_rng_state_all()):
            tensors[f"rng/cuda/{index}"] = state
    version, internal, gauss = random.getstate()
    kind, keys, pos, has_gauss, cached = np.random.get_state()
    json_state = {"python": [version, list(internal), gauss],
                  "numpy": [kind, keys.tolist(), pos, has_gauss, cached]}
    return tensors, json_state


def set_global_rng_state(tensors: dict[str, torch.Tensor], json_state: dict) -> None:
    """Restore what `global_rng_state` captured."""
    torch.set_rng_state(tensors["rng/torch"])
    cuda = sorted((k for k in tensors if k.startswith("rng/cuda/")), key=lambda k: int(k.rsplit("/", 1)[1]))
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([tensors[k] for k in cuda])
    version, internal, gauss = json_state["python"]
    random.setstate((version, tuple(internal), gauss))
    kind, keys, pos, has_gauss, cached = json_state["numpy"]
    np.random.set_state((kind, np.array(keys, dtype=np.uint32), pos, has_gauss, cached))


@contextmanager
def reproducible_torch(device: torch.device) -> Iterator[None]:
    """Deterministic kernels where the device has them for the duration of a trial; the previous
    process-wide settings are restored afterwards. (CPU threads are a run setting, set once per
    process by the runner: `set_threads`.)"""
    previous = (torch.get_num_threads(), torch.are_deterministic_algorithms_enabled(),
                torch.is_deterministic_algorithms_warn_only_enabled(),
                torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic,
                torch.utils.deterministic.fill_uninitialized_memory,
                torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32)
    if device.type == "cuda":
        # set at import already (above); kept for a process that removed it before importing us
        os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", CUBLAS_WORKSPACE)
    # float32 means float32: cuDNN's default TF32 convolutions (Ampere and later) round inputs to
    # 10 mantissa bits, so a convnet's numbers would depend on the GPU generation, not on the dtype.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    # warn_only: an op with no deterministic kernel on this device warns instead of failing the trial.
    torch.use_deterministic_algorithms(True, warn_only=True)
    torch.backends.cudnn.benchmark = False
    torch.backends.cudnn.deterministic = True
    # Deterministic mode also fills every new tensor with NaN, which changes no result (the engine
    # never reads memory it did not write) and cost 1.10-1.20x per step (benchmarks/, docs/performance.md).
    torch.utils.deterministic.fill_uninitialized_memory = False
    try:
        yield
    finally:
        torch.set_num_threads(previous[0])
        torch.use_deterministic_algorithms(previous[1], warn_only=previous[2])
        torch.backends.cudnn.benchmark, torch.backends.cudnn.deterministic = previous[3], previous[4]
        torch.utils.deterministic.fill_uninitialized_memory = previous[5]
        torch.backends.cuda.matmul.allow_tf32, torch.backends.cudnn.allow_tf32 = previous[6], previous[7]
