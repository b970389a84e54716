"""The engine's version: part of every trial key, so results of older training semantics are not mixed
with newer ones. Change it only when the same config + seed would train differently."""

from __future__ import annotations

# 2: every stackable trial trains through the stack's kernels (one by one is a stack of one), dropout
# masks come from a CPU generator on every device, TF32 is off: the same config + seed trains differently.
ENGINE_VERSION: str = "2"
