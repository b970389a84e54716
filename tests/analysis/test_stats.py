"""Statistics against direct scipy calls, and Holm's correction against a hand-worked example."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from hyperlab.analysis.stats import (
    cohen_dz,
    estimate,
    holm,
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


def test_paired_comparison_matches_ttest_rel_on_the_common_seeds():
    baseline = {0: 0.80, 1: 0.83, 2: 0.78, 3: 0.85, 7: 0.9}
    variant = {0: 0.82, 1: 0.86, 2: 0.79, 3: 0.88, 5: 0.1}  # seeds 5 and 7 are unpaired: left out
    c = paired_compare("v", "best_val_accuracy", baseline, variant)
    seeds = [0, 1, 2, 3]
    a, b = np.array([variant[s] for s in seeds]), np.array([baseline[s] for s in seeds])
    expected = stats.ttest_rel(a, b)
    assert c.seeds == (0, 1, 2, 3)
    assert c.statistic == pytest.approx(expected.statistic)
    assert c.p_value == pytest.approx(expected.pvalue)
    assert c.test == "paired t-test"
    diffs = a - b
    lo, hi = stats.t.interval(0.95, 3, loc=diffs.mean(), scale=stats.sem(diffs))
    assert c.difference.mean == pytest.approx(diffs.mean())
    assert (c.difference.lo, c.difference.hi) == (pytest.approx(lo), pytest.approx(hi))
    assert c.effect_size == pytest.approx(diffs.mean() / diffs.std(ddof=1))
    assert cohen_dz(diffs) == pytest.approx(c.effect_size)


def test_fewer_than_three_seeds_gives_no_test():
    c = paired_compare("v", "m", {0: 0.8, 1: 0.82}, {0: 0.85, 1: 0.83})
    assert c.p_value is None and not c.testable and not c.significant
    assert c.note.startswith("not enough seeds for a test")
    assert c.difference.mean == pytest.approx(0.03)


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


def test_with_holm_adjusts_each_metric_as_its_own_family():
    rng = np.random.default_rng(1)
    base = {s: 0.8 + 0.01 * rng.standard_normal() for s in range(4)}
    found = []
    for i, shift in enumerate([0.0, 0.02, 0.05]):
        variant = {s: v + shift + 0.005 * rng.standard_normal() for s, v in base.items()}
        found += [paired_compare(f"v{i}", metric, base, variant) for metric in ("best", "test")]
    adjusted = with_holm(found)
    for metric in ("best", "test"):
        mine = [c for c in adjusted if c.metric == metric]
        assert [c.p_holm for c in mine] == pytest.approx(holm([c.p_value for c in mine]))


def test_pareto_front():
    costs = [10, 20, 20, 30, 40, None]
    scores = [0.5, 0.7, 0.6, 0.7, 0.9, 1.0]
    # (20, 0.6) is beaten by (20, 0.7); (30, 0.7) by (20, 0.7); a missing cost is never on the front.
    assert pareto_front(costs, scores) == [0, 1, 4]
