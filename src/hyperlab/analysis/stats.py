"""Statistics over seeds: intervals, paired tests, Holm's correction, effect size and power.

The tests and intervals come from scipy.stats, Holm's correction and the power analysis from
statsmodels. Accuracies are counts (correct of total): when the evaluated set's size is known the
values are rounded to whole examples first, so a tie is exact and a difference of one example on
every seed is recognised as zero variance (a float difference of k/135 has a spread of ~1e-17).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from scipy import stats

CONFIDENCE = 0.95
ALPHA = 0.05  # family-wise error rate for the Holm-adjusted verdicts
POWER = 0.80  # the power at which the minimum detectable difference is stated
MIN_SEEDS_FOR_TEST = 3
MAX_SEEDS_NEEDED = 1000  # "more than 1000 seeds" beyond this: the difference is practically undetectable
TEST_NAME = "paired t-test"
SIGN_TEST_NAME = "exact sign test"
RELATIVE_TIE = 1e-9  # float values this close (relative) are equal when no set size is known

# How an interval was made (Estimate.method); docs/report.md, "Statistics".
T_INTERVAL = "t"
LOGIT_INTERVAL = "logit-t"  # t-interval on the logit scale, back-transformed: stays inside 0-100%
CLIPPED_INTERVAL = "t, cut at the bound"  # a seed at 0% or 100%: the t-interval cut to the range


@dataclass(frozen=True)
class Estimate:
    """Mean over seeds with its sample std and 95% interval (lo/hi None when n < 2).

    method: T_INTERVAL or LOGIT_INTERVAL (a bounded metric whose t-interval crosses its bound);
    "" when there is no interval (n < 2) or every seed gave the same value (std 0, lo = hi = mean).
    """

    mean: float | None
    std: float | None
    lo: float | None
    hi: float | None
    n: int
    method: str = T_INTERVAL


def _finite(values: Sequence[float | None]) -> np.ndarray:
    return np.array([v for v in values if v is not None and math.isfinite(v)], dtype=float)


def to_counts(values: np.ndarray, total: int | None) -> np.ndarray | None:
    """Fractions of `total` as whole counts, or None when some value is not a multiple of 1/total."""
    if total is None or total <= 0 or len(values) == 0:
        return None
    counts = np.rint(values * total)
    return counts if np.all(np.abs(counts - values * total) < 1e-6) else None


def all_equal(values: np.ndarray, total: int | None = None) -> bool:
    """Every value the same: exactly on counts when `total` is known, else to RELATIVE_TIE."""
    if len(values) < 2:
        return True
    counts = to_counts(values, total)
    if counts is not None:
        return bool(np.all(counts == counts[0]))
    scale = max(1.0, float(np.max(np.abs(values))))
    return bool(np.ptp(values) <= RELATIVE_TIE * scale)


def estimate(values: Sequence[float | None], *, total: int | None = None,
             bounds: tuple[float, float] | None = None) -> Estimate:
    """Mean, sample std and 95% interval of the finite values (None entries skipped).

    total: the size of the evaluated set when the values are accuracies (correct / total): the
    values are rounded to whole examples so equal counts are exactly equal. bounds: the metric's
    range (accuracy: 0 to 1); when the t-interval crosses it, the logit-scale t-interval is used.
    """
    finite = _finite(values)
    n = len(finite)
    if n == 0:
        return Estimate(None, None, None, None, 0, "")
    counts = to_counts(finite, total)
    if counts is not None:
        finite = counts / total
    mean = float(finite.mean())
    if n < 2:
        return Estimate(mean, None, None, None, 1, "")
    if all_equal(finite, total):
        return Estimate(float(finite[0]), 0.0, float(finite[0]), float(finite[0]), n, "")
    std = float(finite.std(ddof=1))
    lo, hi = stats.t.interval(CONFIDENCE, n - 1, loc=mean, scale=std / math.sqrt(n))
    if bounds is not None and (lo < bounds[0] or hi > bounds[1]):
        if np.all((finite > bounds[0]) & (finite < bounds[1])):
            return Estimate(mean, std, *_logit_interval(finite, bounds, mean), n, LOGIT_INTERVAL)
        # A seed at the bound has an infinite logit: cut instead. Cutting keeps the coverage, since
        # the true mean always lies inside the range.
        return Estimate(mean, std, max(float(lo), float(bounds[0])), min(float(hi), float(bounds[1])), n,
                        CLIPPED_INTERVAL)
    return Estimate(mean, std, float(lo), float(hi), n, T_INTERVAL)


def _logit_interval(values: np.ndarray, bounds: tuple[float, float], mean: float) -> tuple[float, float]:
    """t-interval of the logits (every value strictly inside the bounds), back-transformed."""
    low, high = bounds
    share = (values - low) / (high - low)
    logits = np.log(share / (1 - share))
    n = len(logits)
    lo, hi = stats.t.interval(CONFIDENCE, n - 1, loc=logits.mean(), scale=logits.std(ddof=1) / math.sqrt(n))
    back = [low + (high - low) / (1 + math.exp(-x)) for x in (lo, hi)]
    # the interval must still contain the mean it is printed beside
    return min(back[0], mean), max(back[1], mean)


@dataclass(frozen=True)
class Sensitivity:
    """What this comparison could detect: at the observed spread of the differences and n seeds, the
    smallest difference a paired t-test finds with POWER at ALPHA (two-sided, unadjusted), and the
    seeds that test would need to detect the observed difference (None: no spread or no difference)."""

    detectable: float | None
    seeds_needed: int | None


def sensitivity(differences: np.ndarray) -> Sensitivity:
    """Minimum detectable difference and seeds needed (statsmodels' TTestPower: the paired t-test)."""
    from statsmodels.stats.power import TTestPower  # ~0.5 s to import: only when a report is made

    n = len(differences)
    if n < 2:
        return Sensitivity(None, None)
    sd = float(np.std(differences, ddof=1))
    if not math.isfinite(sd) or sd == 0.0 or all_equal(differences):
        return Sensitivity(None, None)
    with warnings.catch_warnings():  # the solver warns (and returns nan) when no n below its limit works
        warnings.simplefilter("ignore")
        return _solve(TTestPower(), differences, n, sd)


def _solve(power, differences: np.ndarray, n: int, sd: float) -> Sensitivity:
    detectable = None
    if n >= MIN_SEEDS_FOR_TEST:
        solved = float(power.solve_power(effect_size=None, nobs=n, alpha=ALPHA, power=POWER))
        detectable = solved * sd if math.isfinite(solved) else None
    observed = abs(float(np.mean(differences))) / sd
    return Sensitivity(detectable, _seeds_needed(power, observed) if observed > 0 else None)


def _seeds_needed(power, effect: float) -> int:
    """The fewest seeds (>= MIN_SEEDS_FOR_TEST) whose paired t-test has POWER for `effect` (Cohen's d_z),
    by bisection over whole numbers (power grows with n); MAX_SEEDS_NEEDED + 1 when even that is short."""

    def enough(n: int) -> bool:
        value = float(power.power(effect_size=effect, nobs=n, alpha=ALPHA))
        return math.isnan(value) or value >= POWER  # nan: the noncentral t underflows where power is ~1

    if enough(MIN_SEEDS_FOR_TEST):
        return MIN_SEEDS_FOR_TEST
    if not enough(MAX_SEEDS_NEEDED):
        return MAX_SEEDS_NEEDED + 1
    low, high = MIN_SEEDS_FOR_TEST, MAX_SEEDS_NEEDED  # enough(low) is False, enough(high) is True
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


@dataclass(frozen=True)
class PairedComparison:
    """A variant against the baseline on one metric, paired by seed (difference = variant - baseline)."""

    variant: str
    metric: str
    seeds: tuple[int, ...]  # the seeds present (and usable) in both
    difference: Estimate  # mean difference with its 95% t-interval
    test: str  # the test run: TEST_NAME, SIGN_TEST_NAME, or "" when none
    statistic: float | None  # t statistic (paired t-test only)
    p_value: float | None  # two-sided; None when there are too few seeds or nothing to test
    p_holm: float | None  # Holm-adjusted within its family (see with_holm)
    effect_size: float | None  # Cohen's d_z = mean difference / std of differences (never infinite)
    note: str  # why there is no t-test, or ""
    total: int | None = None  # the evaluated set's size when the metric is an accuracy (a count)
    count_difference: int | None = None  # the per-seed difference in examples when it is the same on all
    sensitivity: Sensitivity = Sensitivity(None, None)

    @property
    def n(self) -> int:
        return len(self.seeds)

    @property
    def testable(self) -> bool:
        return self.p_value is not None

    @property
    def significant(self) -> bool:
        return self.p_holm is not None and self.p_holm < ALPHA

    @property
    def constant(self) -> bool:
        """The same difference on every paired seed (zero variance): no t-test, no d_z."""
        return self.n >= 2 and self.difference.std == 0.0


def cohen_dz(differences: Sequence[float]) -> float | None:
    """Cohen's d_z for paired data: mean of the differences over their sample std (None if undefined)."""
    diffs = np.asarray(differences, dtype=float)
    if len(diffs) < 2 or all_equal(diffs):
        return None
    return float(diffs.mean() / diffs.std(ddof=1))


def paired_compare(
    variant: str, metric: str, baseline: Mapping[int, float | None], candidate: Mapping[int, float | None],
    *, total: int | None = None,
) -> PairedComparison:
    """Difference candidate - baseline over the seeds both have (finite).

    A paired t-test when the differences vary; when they are the same on every seed (zero variance)
    the exact sign test (scipy.stats.binomtest on the signs) instead, and no d_z; when they are all
    zero, no test. total: the evaluated set's size for accuracies (differences become whole examples).
    """
    seeds = sorted(
        s for s in set(baseline) & set(candidate)
        if baseline[s] is not None and candidate[s] is not None
        and math.isfinite(baseline[s]) and math.isfinite(candidate[s])
    )
    base = np.array([baseline[s] for s in seeds], dtype=float)
    cand = np.array([candidate[s] for s in seeds], dtype=float)
    base_counts, cand_counts = to_counts(base, total), to_counts(cand, total)
    exact = total if base_counts is not None and cand_counts is not None else None
    diffs = (cand_counts - base_counts) / total if exact else cand - base
    difference = estimate(list(diffs), total=exact)
    if exact is None and difference.std == 0.0:  # a float tie: the differences equal up to rounding
        diffs = np.full(len(diffs), difference.mean)
    statistic = p_value = effect = None
    test, note = "", ""
    count_difference = None
    if exact is not None and len(seeds) >= 2 and difference.std == 0.0:
        count_difference = int(round(difference.mean * exact))
    if len(seeds) < MIN_SEEDS_FOR_TEST:
        note = f"not enough seeds for a test ({len(seeds)} paired, need {MIN_SEEDS_FOR_TEST})"
    elif difference.std == 0.0 and difference.mean == 0.0:
        note = "no difference on any seed: no variance, no test"
    elif difference.std == 0.0:
        note = "the same difference on every seed: no variance, no t-test"
        test = SIGN_TEST_NAME
        positive = int(np.sum(diffs > 0))
        p_value = float(stats.binomtest(positive, len(diffs), 0.5).pvalue)
    else:
        result = stats.ttest_rel(cand, base)
        statistic, p_value = float(result.statistic), float(result.pvalue)
        test = TEST_NAME
        effect = cohen_dz(diffs)
    return PairedComparison(
        variant=variant, metric=metric, seeds=tuple(int(s) for s in seeds), difference=difference,
        test=test, statistic=statistic, p_value=p_value, p_holm=None, effect_size=effect, note=note,
        total=exact, count_difference=count_difference, sensitivity=sensitivity(diffs),
    )


def holm(p_values: Sequence[float | None]) -> list[float | None]:
    """Holm's step-down adjusted p-values (statsmodels' multipletests), same order; None stays None."""
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if present:
        corrected = multipletests([p_values[i] for i in present], alpha=ALPHA, method="holm")[1]
        for i, p in zip(present, corrected, strict=True):
            adjusted[i] = float(p)
    return adjusted


def with_holm(comparisons: Sequence[PairedComparison]) -> list[PairedComparison]:
    """The comparisons with p_holm filled in. The family: per metric, every comparison with the
    baseline that has a test (paired t-test or exact sign test); those without one (fewer than 3
    paired seeds, or no difference on any seed) are outside it and have no adjusted p."""
    out = list(comparisons)
    for metric in {c.metric for c in out}:
        indices = [i for i, c in enumerate(out) if c.metric == metric]
        adjusted = holm([out[i].p_value for i in indices])
        for i, p in zip(indices, adjusted, strict=True):
            out[i] = replace(out[i], p_holm=p)
    return out


def family_size(comparisons: Sequence[PairedComparison], metric: str) -> int:
    """How many tests form the Holm family of `metric`."""
    return sum(c.metric == metric and c.testable for c in comparisons)


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
