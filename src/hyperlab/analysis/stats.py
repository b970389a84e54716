"""Statistics over seeds: intervals, paired tests, Holm's correction, equivalence, effect size and power.

The paired test is the exact sign-flip permutation test on the per-seed differences
(`scipy.stats.permutation_test`, every one of the 2^n sign patterns up to n = 20): it needs no
normality and no variance, so a difference that is the same on every seed and one that varies are
tested alike. Its smallest two-sided p is 2 / 2^n, so with a Holm family of m tests no difference
can be declared below `min_seeds_to_detect(m)` seeds: the verdict there is "too few seeds to test".
Intervals are t-intervals; equivalence is TOST (statsmodels' `ttost_paired`); Holm's correction and
the power analysis come from statsmodels.

Accuracies are counts (correct of total): when the evaluated set's size is known the
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
TEST_NAME = "exact sign-flip permutation test"
SIGN_TEST_NAME = TEST_NAME  # one test for every difference now (a constant one included)
TOST_NAME = "TOST (paired t)"
MAX_EXACT_SEEDS = 20  # up to this many paired seeds every sign pattern is enumerated (2^20 = 1,048,576)
MONTE_CARLO_FLIPS = 100_000  # beyond: random sign patterns from a fixed generator (reproducible)
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
    """What this comparison could detect, at the family's alpha (ALPHA / m: Holm's first step).

    detectable: the smallest difference a paired t-test (statsmodels' TTestPower, the power
    approximation used for the exact test) finds with POWER at n seeds, at the observed spread.
    seeds_needed: the seeds that test needs to detect the observed difference at the observed spread,
    and seeds_range the same at the two ends of the 95% chi-square interval of that spread (an SD of 3
    differences is known only to within x0.52 to x6.3). Never below the seeds the exact test needs to
    reach the family's alpha at all. None: no spread or no difference."""

    detectable: float | None
    seeds_needed: int | None
    seeds_range: tuple[int, int] | None = None
    alpha: float = ALPHA


def sd_interval(sd: float, n: int) -> tuple[float, float]:
    """95% interval of a normal population's SD from a sample SD of n values (chi-square)."""
    low = sd * math.sqrt((n - 1) / stats.chi2.ppf(1 - (1 - CONFIDENCE) / 2, n - 1))
    high = sd * math.sqrt((n - 1) / stats.chi2.ppf((1 - CONFIDENCE) / 2, n - 1))
    return low, high


def sensitivity(differences: np.ndarray, family: int = 1) -> Sensitivity:
    """Minimum detectable difference and seeds needed at the family's alpha (see Sensitivity)."""
    from statsmodels.stats.power import TTestPower  # ~0.5 s to import: only when a report is made

    n = len(differences)
    alpha = ALPHA / max(family, 1)
    if n < 2:
        return Sensitivity(None, None, None, alpha)
    sd = float(np.std(differences, ddof=1))
    if not math.isfinite(sd) or sd == 0.0 or all_equal(differences):
        return Sensitivity(None, None, None, alpha)
    with warnings.catch_warnings():  # the solver warns (and returns nan) when no n below its limit works
        warnings.simplefilter("ignore")
        return _solve(TTestPower(), differences, n, sd, alpha, min_seeds_to_detect(family))


def _solve(power, differences: np.ndarray, n: int, sd: float, alpha: float, floor: int) -> Sensitivity:
    detectable = None
    if n >= MIN_SEEDS_FOR_TEST:
        solved = float(power.solve_power(effect_size=None, nobs=n, alpha=alpha, power=POWER))
        detectable = solved * sd if math.isfinite(solved) else None
    mean = abs(float(np.mean(differences)))
    if mean == 0:
        return Sensitivity(detectable, None, None, alpha)
    low_sd, high_sd = sd_interval(sd, n)
    needed = [max(floor, _seeds_needed(power, mean / s, alpha)) for s in (sd, low_sd, high_sd)]
    return Sensitivity(detectable, needed[0], (needed[1], needed[2]), alpha)


def _seeds_needed(power, effect: float, alpha: float = ALPHA) -> int:
    """The fewest seeds (>= MIN_SEEDS_FOR_TEST) whose paired t-test has POWER for `effect` (Cohen's d_z),
    by bisection over whole numbers (power grows with n); MAX_SEEDS_NEEDED + 1 when even that is short."""

    def enough(n: int) -> bool:
        value = float(power.power(effect_size=effect, nobs=n, alpha=alpha))
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


def min_seeds_to_detect(family: int = 1, alpha: float = ALPHA) -> int:
    """The fewest paired seeds at which the exact sign-flip test can give a Holm-adjusted p below
    `alpha` in a family of `family` tests: its smallest two-sided p is 2 / 2^n, and Holm multiplies the
    smallest p of the family by m. 6 for one test, 10 for a family of 16."""
    n = MIN_SEEDS_FOR_TEST
    while max(family, 1) * 2.0 / 2.0**n >= alpha:
        n += 1
    return n


@dataclass(frozen=True)
class Equivalence:
    """TOST of |difference| < margin (statsmodels' ttost_paired); p None when it cannot run (no
    spread, or fewer than MIN_SEEDS_FOR_TEST seeds), with the reason in `note`."""

    margin: float  # in the metric's unit (an accuracy margin of 1 point is 0.01)
    p_value: float | None
    p_holm: float | None = None  # Holm-adjusted over the study's equivalence tests
    note: str = ""

    @property
    def equivalent(self) -> bool:
        return self.p_holm is not None and self.p_holm < ALPHA


@dataclass(frozen=True)
class PairedComparison:
    """A variant against the baseline on one metric, paired by seed (difference = variant - baseline)."""

    variant: str
    metric: str
    seeds: tuple[int, ...]  # the seeds present (and usable) in both
    difference: Estimate  # mean difference with its 95% t-interval
    test: str  # the test run: TEST_NAME, or "" when none
    statistic: float | None  # the mean difference the permutation test uses
    p_value: float | None  # two-sided; None when there are too few seeds or nothing to test
    p_holm: float | None  # Holm-adjusted within the study's family (see with_holm)
    effect_size: float | None  # Cohen's d_z = mean difference / std of differences (never infinite)
    note: str  # why there is no test, or ""
    total: int | None = None  # the evaluated set's size when the metric is an accuracy (a count)
    count_difference: int | None = None  # the per-seed difference in examples when it is the same on all
    sensitivity: Sensitivity = Sensitivity(None, None)
    differences: tuple[float, ...] = ()  # per paired seed, in `seeds` order
    family: int = 1  # the size of the Holm family the adjusted p belongs to
    equivalence: Equivalence | None = None  # TOST against the study's smallest_effect, when it has one

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
    def seeds_to_detect(self) -> int:
        """The fewest seeds at which this family's exact test can declare any difference."""
        return min_seeds_to_detect(self.family)

    @property
    def too_few_seeds(self) -> bool:
        """Fewer seeds than the exact test needs to reach the family's alpha: no verdict possible."""
        return self.n < self.seeds_to_detect

    @property
    def constant(self) -> bool:
        """The same difference on every paired seed (zero variance): no d_z."""
        return self.n >= 2 and self.difference.std == 0.0


def cohen_dz(differences: Sequence[float]) -> float | None:
    """Cohen's d_z for paired data: mean of the differences over their sample std (None if undefined)."""
    diffs = np.asarray(differences, dtype=float)
    if len(diffs) < 2 or all_equal(diffs):
        return None
    return float(diffs.mean() / diffs.std(ddof=1))


def sign_flip_p(differences: Sequence[float]) -> float:
    """Two-sided p of the exact sign-flip permutation test of mean(differences) = 0
    (scipy.stats.permutation_test, permutation_type="samples" on one sample flips signs): all 2^n sign
    patterns up to MAX_EXACT_SEEDS, else MONTE_CARLO_FLIPS random ones from a fixed generator."""
    diffs = np.asarray(differences, dtype=float)
    n = len(diffs)
    resamples = 2**n if n <= MAX_EXACT_SEEDS else MONTE_CARLO_FLIPS
    result = stats.permutation_test(
        (diffs,), lambda x, axis: np.mean(x, axis=axis), vectorized=True, permutation_type="samples",
        n_resamples=resamples, alternative="two-sided", rng=np.random.default_rng(0))
    return float(min(1.0, result.pvalue))


def tost(differences: Sequence[float], margin: float) -> Equivalence:
    """TOST of the paired differences against (-margin, +margin): statsmodels' ttost_paired."""
    from statsmodels.stats.weightstats import ttost_paired

    diffs = np.asarray(differences, dtype=float)
    if len(diffs) < MIN_SEEDS_FOR_TEST:
        return Equivalence(margin, None, note=f"too few seeds for TOST ({len(diffs)})")
    if all_equal(diffs):
        return Equivalence(margin, None, note="no spread: TOST undefined")
    p = float(ttost_paired(diffs, np.zeros_like(diffs), -margin, margin)[0])
    return Equivalence(margin, p if math.isfinite(p) else None)


def paired_compare(
    variant: str, metric: str, baseline: Mapping[int, float | None], candidate: Mapping[int, float | None],
    *, total: int | None = None, margin: float | None = None,
) -> PairedComparison:
    """Difference candidate - baseline over the seeds both have (finite), tested with the exact
    sign-flip permutation test (any spread, a constant difference included); all zero: no test.
    total: the evaluated set's size for accuracies (differences become whole examples). margin: the
    smallest difference that matters, in the metric's unit: a TOST equivalence test against it."""
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
    statistic = p_value = None
    test, note = "", ""
    count_difference = None
    if exact is not None and len(seeds) >= 2 and difference.std == 0.0:
        count_difference = int(round(difference.mean * exact))
    if len(seeds) < MIN_SEEDS_FOR_TEST:
        note = f"not enough seeds for a test ({len(seeds)} paired, need {MIN_SEEDS_FOR_TEST})"
    elif difference.std == 0.0 and difference.mean == 0.0:
        note = "no difference on any seed: no variance, no test"
    else:
        if difference.std == 0.0:
            note = "the same difference on every seed: no variance, no CI"
        # whole examples when known, so the permutation statistic compares exact sums
        p_value = sign_flip_p(cand_counts - base_counts if exact else diffs)
        statistic, test = float(np.mean(diffs)), TEST_NAME
    equivalence = None if margin is None or len(seeds) == 0 else tost(diffs, margin)
    return PairedComparison(
        variant=variant, metric=metric, seeds=tuple(int(s) for s in seeds), difference=difference,
        test=test, statistic=statistic, p_value=p_value, p_holm=None, effect_size=cohen_dz(diffs),
        note=note, total=exact, count_difference=count_difference, sensitivity=sensitivity(diffs),
        differences=tuple(float(d) for d in diffs), equivalence=equivalence,
    )


def holm(p_values: Sequence[float | None], family: int | None = None) -> list[float | None]:
    """Holm's step-down adjusted p-values (statsmodels' multipletests), same order; None stays None.

    family: the family's size when it has members without a p-value here (comparisons with too few
    seeds, searched configurations never confirmed): they enter as p = 1, which can never be rejected,
    so the others are adjusted as in the whole pre-declared family."""
    from statsmodels.stats.multitest import multipletests

    present = [i for i, p in enumerate(p_values) if p is not None]
    adjusted: list[float | None] = [None] * len(p_values)
    if present:
        padding = max(0, (family or 0) - len(present))
        given = [p_values[i] for i in present] + [1.0] * padding
        corrected = multipletests(given, alpha=ALPHA, method="holm")[1]
        for i, p in zip(present, corrected, strict=False):
            adjusted[i] = float(p)
    return adjusted


def with_holm(comparisons: Sequence[PairedComparison], extra: int = 0) -> list[PairedComparison]:
    """The comparisons with p_holm filled in over one pre-declared family: every comparison given
    (every variant against the baseline on every compared metric), those without a test counted as
    p = 1, plus `extra` members tested elsewhere (a search's unconfirmed configurations). The power
    figures are recomputed at the family's alpha. Equivalence tests (TOST) form a second family."""
    out = list(comparisons)
    family = len(out) + extra
    adjusted = holm([c.p_value for c in out], family=family)
    tost_adjusted = holm([c.equivalence.p_value if c.equivalence else None for c in out], family=None)
    for i, (c, p, q) in enumerate(zip(out, adjusted, tost_adjusted, strict=True)):
        equivalence = replace(c.equivalence, p_holm=q) if c.equivalence is not None else None
        out[i] = replace(c, p_holm=p, family=family, equivalence=equivalence,
                         sensitivity=sensitivity(np.asarray(c.differences), family))
    return out


def family_size(comparisons: Sequence[PairedComparison], metric: str | None = None) -> int:
    """How many tests form the study's Holm family (one family over every metric; `metric` is kept for
    callers of the per-metric families this replaced)."""
    return max((c.family for c in comparisons), default=0)


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
