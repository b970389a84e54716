"""The device the test suite trains on, and the tolerances that differ by device, stated once.

`HYPERLAB_TEST_DEVICE=cuda` runs the suite on CUDA (it fails at once when there is none);
`HYPERLAB_TEST_DEVICE=cpu` keeps it on the CPU even where CUDA exists (tests/conftest.py hides the
GPUs from torch before it starts CUDA, so `device = "auto"` in a trial means the CPU too). Unset,
the suite runs where `device = "auto"` puts a trial: CUDA when torch sees one (so
`../shared/gpu/check.sh`, which sets nothing, checks CUDA on the GPU machine), else the CPU.
"""

from __future__ import annotations

import os

import torch

REQUESTED = os.environ.get("HYPERLAB_TEST_DEVICE", "").strip().lower()
if REQUESTED not in ("", "cpu", "cuda"):
    raise RuntimeError(f"HYPERLAB_TEST_DEVICE must be cpu or cuda, got {REQUESTED!r}")
if REQUESTED == "cuda" and not torch.cuda.is_available():
    raise RuntimeError("HYPERLAB_TEST_DEVICE=cuda but torch sees no CUDA device")

DEVICE = "cuda" if REQUESTED != "cpu" and torch.cuda.is_available() else "cpu"
ON_CUDA = DEVICE == "cuda"

# Relative tolerance of "the stack trains what the engine's plain loop trains" (tests/vectorized):
# batched products round differently from one model's. On CUDA the batched (bmm, grouped conv)
# and plain kernels are different cuBLAS/cuDNN algorithms, whose roundings differ more.
STACK_VS_ENGINE_RTOL = 1e-4 if ON_CUDA else 1e-5
# Bit for bit: a trial's numbers whatever it is grouped with, executed by or resumed on (the
# numerics contract, docs/performance.md) hold exactly on both devices.
EXACT = 0.0
