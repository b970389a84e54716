"""Statistics against direct scipy calls, and Holm's correction against a hand-worked example."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from scipy import stats

from hyperlab.analysis.stats import (
    cohen_dz,
    estimate,
    holm,
    min_seeds_to_detect,
    paired_compare,
    pareto_front,
    with_holm,
)


def test_estimate_matches_scipy_t_interval():
    values = [0.81, 0.84, 0.79, 0.86, 0.83]
    est = estimate(values)
    lo, hi = stats.t.interval(0.95, len(values) - 1, loc=np.mean(values), scale=stats.sem(values))
    assert est.mean == pytest.approx(np.mean(values))
    assert est.std == pytest.approx(np.std(values, ddof=1))
    assert (est.lo, est.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert est.n == 5


def test_estimate_skips_missing_values_and_has_no_interval_for_one_seed():
    assert estimate([0.5, None, float("nan"), 0.7]).n == 2
    single = estimate([0.5])
    assert single.mean == 0.5 and single.lo is None and single.hi is None and single.n == 1
    assert estimate([]).mean is None


def _enumerated_sign_flip_p(diffs) -> float:
    """The two-sided sign-flip p by brute force: every sign pattern, |mean| at least the observed."""
    diffs = np.asarray(diffs, dtype=float)
    observed = abs(diffs.mean())
    means = [abs((np.array(signs) * diffs).mean()) for signs in itertools.product((1, -1), repeat=len(diffs))]
    return float(np.mean([m >= observed - 1e-12 for m in means]))


def test_paired_comparison_is_the_exact_sign_flip_test_on_the_common_seeds():
    baseline = {0: 0.80, 1: 0.83, 2: 0.78, 3: 0.85, 7: 0.9}
    variant = {0: 0.82, 1: 0.86, 2: 0.79, 3: 0.88, 5: 0.1}  # seeds 5 and 7 are unpaired: left out
    c = paired_compare("v", "best_val_accuracy", baseline, variant)
    seeds = [0, 1, 2, 3]
    a, b = np.array([variant[s] for s in seeds]), np.array([baseline[s] for s in seeds])
    diffs = a - b
    assert c.seeds == (0, 1, 2, 3)
    assert c.test == "exact sign-flip permutation test"
    assert c.p_value == pytest.approx(_enumerated_sign_flip_p(diffs)) == pytest.approx(2 / 16)
    assert c.statistic == pytest.approx(diffs.mean())
    lo, hi = stats.t.interval(0.95, 3, loc=diffs.mean(), scale=stats.sem(diffs))
    assert c.difference.mean == pytest.approx(diffs.mean())
    assert (c.difference.lo, c.difference.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert c.effect_size == pytest.approx(diffs.mean() / diffs.std(ddof=1))
    assert cohen_dz(diffs) == pytest.approx(c.effect_size)


def test_the_audits_reversal_is_gone_constant_and_varying_differences_get_the_same_p():
    # Before: +10 examples on every seed -> sign test p = 0.25; +10, +10, +11 -> paired t-test p = 0.001.
    base = {0: 100, 1: 100, 2: 100}
    constant = paired_compare("v", "m", {s: v / 135 for s, v in base.items()},
                              {s: (v + 10) / 135 for s, v in base.items()}, total=135)
    varying = paired_compare("v", "m", {s: v / 135 for s, v in base.items()},
                             {0: 110 / 135, 1: 110 / 135, 2: 111 / 135}, total=135)
    assert constant.p_value == pytest.approx(0.25) and varying.p_value == pytest.approx(0.25)
    assert constant.test == varying.test == "exact sign-flip permutation test"
    adjusted = with_holm([constant, varying])
    assert all(c.too_few_seeds and not c.significant and c.seeds_to_detect == 7 for c in adjusted)


def test_seeds_to_detect_follow_the_smallest_exact_p_and_the_family():
    assert min_seeds_to_detect(1) == 6  # 2 / 2^6 = 0.031 < 0.05; 2 / 2^5 = 0.0625
    assert min_seeds_to_detect(16) == 10  # 16 * 2 / 2^10 = 0.031
    twenty = paired_compare("v", "m", dict.fromkeys(range(21), 0.0), {s: 0.01 + s * 1e-4 for s in range(21)})
    assert twenty.p_value is not None and twenty.p_value < 1e-4  # 21 seeds: Monte Carlo, still tiny


def test_fewer_than_three_seeds_gives_no_test():
    c = paired_compare("v", "m", {0: 0.8, 1: 0.82}, {0: 0.85, 1: 0.83})
    assert c.p_value is None and not c.testable and not c.significant
    assert c.note.startswith("not enough seeds for a test")
    assert c.difference.mean == pytest.approx(0.03)


def test_tost_matches_statsmodels_and_is_holm_adjusted_over_its_own_family():
    from statsmodels.stats.weightstats import ttost_paired

    base = {0: 0.80, 1: 0.83, 2: 0.78, 3: 0.85}
    near = {0: 0.801, 1: 0.829, 2: 0.782, 3: 0.849}
    c = paired_compare("v", "m", base, near, margin=0.01)
    x, y = np.array(list(near.values())), np.array(list(base.values()))
    assert c.equivalence.p_value == pytest.approx(ttost_paired(x, y, -0.01, 0.01)[0])
    far = paired_compare("w", "m", base, {s: v + 0.05 + 0.01 * s for s, v in base.items()}, margin=0.01)
    adjusted = with_holm([c, far])
    assert [a.equivalence.p_holm for a in adjusted] == pytest.approx(
        holm([c.equivalence.p_value, far.equivalence.p_value]))
    assert adjusted[0].equivalence.equivalent and not adjusted[1].equivalence.equivalent


def test_power_is_at_the_familys_alpha_with_a_range_from_the_sds_interval():
    from statsmodels.stats.power import TTestPower

    diffs = np.array([0.02, 0.05, 0.01])
    c = with_holm([paired_compare("v", "m", {0: 0.0, 1: 0.0, 2: 0.0}, dict(enumerate(diffs)))], extra=3)[0]
    assert c.family == 4 and c.sensitivity.alpha == pytest.approx(0.05 / 4)
    d_z = TTestPower().solve_power(effect_size=None, nobs=3, alpha=0.05 / 4, power=0.8)
    assert c.sensitivity.detectable == pytest.approx(d_z * diffs.std(ddof=1))
    low, high = c.sensitivity.seeds_range
    assert low <= c.sensitivity.seeds_needed <= high and low < high
    assert low >= min_seeds_to_detect(4)


def test_identical_differences_give_no_test_instead_of_nan():
    c = paired_compare("v", "m", {0: 0.8, 1: 0.7, 2: 0.6}, {0: 0.8, 1: 0.7, 2: 0.6})
    assert c.p_value is None and c.effect_size is None
    assert "no variance" in c.note


def test_holm_against_a_hand_example():
    # Sorted: 0.005 (x4 = 0.02), 0.01 (x3 = 0.03), 0.03 (x2 = 0.06), 0.04 (x1 = 0.04 -> running max 0.06).
    assert holm([0.01, 0.04, 0.03, 0.005]) == pytest.approx([0.03, 0.06, 0.06, 0.02])
    assert holm([0.5, None, 0.01]) == [pytest.approx(0.5), None, pytest.approx(0.02)]
    assert holm([0.6, 0.9]) == [1.0, 1.0]  # capped at 1
    assert holm([]) == []


def test_with_holm_adjusts_every_metric_in_one_family_padding_untested_members():
    rng = np.random.default_rng(1)
    base = {s: 0.8 + 0.01 * rng.standard_normal() for s in range(4)}
    found = []
    for i, shift in enumerate([0.0, 0.02, 0.05]):
        variant = {s: v + shift + 0.005 * rng.standard_normal() for s, v in base.items()}
        found += [paired_compare(f"v{i}", metric, base, variant) for metric in ("best", "test")]
    adjusted = with_holm(found)
    assert [c.p_holm for c in adjusted] == pytest.approx(holm([c.p_value for c in found]))
    assert all(c.family == 6 for c in adjusted)
    padded = with_holm(found, extra=4)  # 4 more members without a p here: they count as p = 1
    assert [c.p_holm for c in padded] == pytest.approx(holm([c.p_value for c in found] + [1.0] * 4)[:6])


def test_pareto_front():
    costs = [10, 20, 20, 30, 40, None]
    scores = [0.5, 0.7, 0.6, 0.7, 0.9, 1.0]
    # (20, 0.6) is beaten by (20, 0.7); (30, 0.7) by (20, 0.7); a missing cost is never on the front.
    assert pareto_front(costs, scores) == [0, 1, 4]
