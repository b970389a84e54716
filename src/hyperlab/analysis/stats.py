"""Statistics over seeds: t-based confidence intervals, paired t-tests, Holm's correction, Cohen's d_z.

The tests and intervals come from scipy.stats; only Holm's step-down adjustment is written here
(scipy has Benjamini-Hochberg, not Holm, and statsmodels is not a dependency).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05  # family-wise error rate for the Holm-adjusted verdicts
MIN_SEEDS_FOR_TEST = 3
TEST_NAME = "paired t-test"


@dataclass(frozen=True)
class Estimate:
    """Mean over seeds with its sample std and 95% t-interval (lo/hi None when n < 2)."""

    mean: float | None
    std: float | None
    lo: float | None
    hi: float | None
    n: int


def estimate(values: Sequence[float | None]) -> Estimate:
    """Mean, sample std and 95% t confidence interval of the finite values (None entries skipped)."""
    finite = np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)
    n = len(finite)
    if n == 0:
        return Estimate(None, None, None, None, 0)
    mean = float(finite.mean())
    if n < 2:
        return Estimate(mean, None, None, None, 1)
    std = float(finite.std(ddof=1))
    if std == 0.0:
        return Estimate(mean, 0.0, mean, mean, n)
    lo, hi = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=std / math.sqrt(n))
    return Estimate(mean, std, float(lo), float(hi), n)


@dataclass(frozen=True)
class PairedComparison:
    """A variant against the baseline on one metric, paired by seed (difference = variant - baseline)."""

    variant: str
    metric: str
    seeds: tuple[int, ...]  # the seeds present (and usable) in both
    difference: Estimate  # mean difference with its 95% t-interval
    test: str  # the test's name
    statistic: float | None  # t statistic
    p_value: float | None  # two-sided; None when there are too few seeds or no variance
    p_holm: float | None  # Holm-adjusted across all variants of the study (same metric)
    effect_size: float | None  # Cohen's d_z = mean difference / std of differences
    note: str  # why there is no test, or ""

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def testable(self) -> bool:
        return self.p_value is not None

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm < ALPHA


def cohen_dz(differences: Sequence[float]) -> float | None:
    """Cohen's d_z for paired data: mean of the differences over their sample std (None if undefined)."""
    diffs = np.asarray(differences, dtype=float)
    if len(diffs) < 2:
        return None
    sd = float(diffs.std(ddof=1))
    return None if sd == 0.0 else float(diffs.mean() / sd)


def paired_compare(
    variant: str, metric: str, baseline: Mapping[int, float | None], candidate: Mapping[int, float | None],
) -> PairedComparison:
    """Difference candidate - baseline over the seeds both have (finite), with a paired t-test."""
    seeds = sorted(
        s for s in set(baseline) & set(candidate)
        if baseline[s] is not None and candidate[s] is not None
        and math.isfinite(baseline[s]) and math.isfinite(candidate[s])
    )
    base = np.array([baseline[s] for s in seeds], dtype=float)
    cand = np.array([candidate[s] for s in seeds], dtype=float)
    diffs = cand - base
    difference = estimate(list(diffs))
    statistic = p_value = None
    note = ""
    if len(seeds) < MIN_SEEDS_FOR_TEST:
        note = f"not enough seeds for a test ({len(seeds)} paired, need {MIN_SEEDS_FOR_TEST})"
    elif float(diffs.std(ddof=1)) == 0.0:
        note = "identical difference on every seed: no variance, no test"
    else:
        result = stats.ttest_rel(cand, base)
        statistic, p_value = float(result.statistic), float(result.pvalue)
    return PairedComparison(
        variant=variant, metric=metric, seeds=tuple(int(s) for s in seeds), difference=difference,
        test=TEST_NAME, statistic=statistic, p_value=p_value, p_holm=None,
        effect_size=cohen_dz(diffs), note=note,
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values, same order as given; None entries stay None.

    Sort the m p-values ascending, multiply the i-th (0-based) by (m - i), make the sequence
    non-decreasing with a running maximum, cap at 1.
    """
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def with_holm(comparisons: Sequence[PairedComparison]) -> list[PairedComparison]:
    """The comparisons with p_holm filled in: one family per metric, across all variants."""
    out = list(comparisons)
    for metric in {c.metric for c in out}:
        indices = [i for i, c in enumerate(out) if c.metric == metric]
        adjusted = holm([out[i].p_value for i in indices])
        for i, p in zip(indices, adjusted, strict=True):
            out[i] = replace(out[i], p_holm=p)
    return out


def pareto_front(costs: Sequence[float], scores: Sequence[float]) -> list[int]:
    """Indices of the points no other point beats (cost <= and score >=, one strictly), by cost.

    Points with a non-finite cost or score are never on the front.
    """
    points = [
        (c, -s, i) for i, (c, s) in enumerate(zip(costs, scores, strict=True))
        if c is not None and s is not None and math.isfinite(c) and math.isfinite(s)
    ]
    front: list[int] = []
    best_score = -math.inf
    for _cost, neg_score, i in sorted(points):
        if -neg_score > best_score:
            front.append(i)
            best_score = -neg_score
    return front
