"""Seeded, stratified choice of example indices (vectorized: no per-example Python)."""

from __future__ import annotations

import numpy as np

# Independent random streams of one split_seed, one per step (so changing `subset` does not move
# the test split of a set without an official one).
TEST_STREAM, SUBSET_STREAM, VALIDATION_STREAM, TEST_SUBSET_STREAM = range(4)


def rng_for(split_seed: int, stream: int) -> np.random.Generator:
    return np.random.default_rng([split_seed, stream])


def holdout_size(n: int, fraction: float) -> int:
    """Examples held out of n for a fraction: rounded half up, at least 1 and at most n - 1."""
    if fraction <= 0 or n < 2:
        return 0
    return int(min(n - 1, max(1, np.floor(n * fraction + 0.5))))


def allocate(counts: np.ndarray, k: int) -> np.ndarray:
    """Per-class share of k proportional to counts (largest remainder; ties to the lower class)."""
    quotas = counts * (k / counts.sum())
    shares = np.floor(quotas).astype(np.int64)
    remainder = k - int(shares.sum())
    if remainder > 0:
        order = np.argsort(-(quotas - shares), kind="stable")
        shares[order[:remainder]] += 1
    return shares


def pick(labels: np.ndarray | None, k: int, rng: np.random.Generator, n: int | None = None) -> np.ndarray:
    """Sorted indices of k examples, stratified by `labels` (integer classes) or uniform if None."""
    n = len(labels) if labels is not None else int(n)
    k = min(k, n)
    if labels is None:
        return np.sort(rng.permutation(n)[:k])
    shuffled = rng.permutation(n)
    grouped = shuffled[np.argsort(labels[shuffled], kind="stable")]  # by class, random inside a class
    _, starts, counts = np.unique(labels[grouped], return_index=True, return_counts=True)
    rank_in_class = np.arange(n) - np.repeat(starts, counts)
    chosen = rank_in_class < np.repeat(allocate(counts, k), counts)
    return np.sort(grouped[chosen])


def complement(indices: np.ndarray, n: int) -> np.ndarray:
    keep = np.ones(n, dtype=bool)
    keep[indices] = False
    return np.flatnonzero(keep)
