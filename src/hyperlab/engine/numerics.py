"""The numerics a trial trains under: what, besides its identity, decides its numbers bit for bit.

Within one set of numerics (device type, dtype, torch version, CPU threads, deterministic
algorithms) a trial's numbers are the same whatever it is stacked with, whichever executor trains
it and however often it is resumed (docs/performance.md, "The numerics contract"). Each trial
records the numerics of every stretch of its training as segments, `[{"from_epoch": 1, "numerics":
{...}}, ...]`: a second segment means it was resumed under other numerics at that epoch.
"""

from __future__ import annotations

from typing import Any

import torch

Numerics = dict[str, Any]  # device, dtype, torch, threads, deterministic
Segments = list[dict[str, Any]]  # [{"from_epoch": int, "numerics": Numerics}, ...]

DTYPES = {"fp32": "float32", "bf16": "bfloat16-autocast"}


def current_numerics(device: torch.device, precision: str) -> Numerics:
    """This process's numerics for a trial of `precision` on `device` (call inside
    `reproducible_torch`, whose deterministic setting is part of them)."""
    return {"device": device.type, "dtype": DTYPES.get(precision, precision), "torch": torch.__version__,
            "threads": torch.get_num_threads(), "deterministic": torch.are_deterministic_algorithms_enabled()}


def describe(numerics: Numerics | None) -> str:
    """One line: "cpu float32 torch 2.13.0 threads=1 deterministic" ("" when unknown)."""
    if not numerics:
        return ""
    mode = "deterministic" if numerics.get("deterministic") else "nondeterministic"
    return (f"{numerics.get('device')} {numerics.get('dtype')} torch {numerics.get('torch')} "
            f"threads={numerics.get('threads')} {mode}")


def changed_at(segments: Segments | None) -> int | None:
    """The first epoch trained under other numerics than the trial's first ones (None: never)."""
    return int(segments[1]["from_epoch"]) if segments and len(segments) > 1 else None


def extend(segments: Segments, numerics: Numerics, next_epoch: int) -> Segments:
    """`segments` with the numerics from `next_epoch` on (a new segment only when they changed)."""
    if segments and segments[-1]["numerics"] == numerics:
        return segments
    # the text too, so that readers below the engine (the store's frames) need not format it
    return [*segments, {"from_epoch": next_epoch, "numerics": dict(numerics), "text": describe(numerics)}]
