"""The defects of issue 15, each on hand-built frames with a known answer.

Accuracies are counts of a 135-example validation set: ties must be exact, a difference of one example
on every seed has no variance (no effect size; the exact sign-flip test treats it like any other),
intervals stay
inside 0-100%, the baseline reaches its own best, a collapse is not overfitting, and an onset that
cannot be detected says so.
"""

from __future__ import annotations

import math

import numpy as np
import pytest
from scipy import stats
from statsmodels.stats.multitest import multipletests
from statsmodels.stats.power import TTestPower
from synthetic_frames import count_frames, rising

from hyperlab.analysis import analyze
from hyperlab.analysis.diagnostics import COLLAPSED, OVERFITS, UNDETECTABLE
from hyperlab.analysis.stats import (
    LOGIT_INTERVAL,
    estimate,
    holm,
    paired_compare,
    sensitivity,
)

TOTAL = 135


def _levels(**extra):
    levels = {
        "baseline": {"val": [rising(133)] * 3},
        "width=plus one": {"val": [rising(134)] * 3},  # one example more on every seed
        "width=same": {"val": [rising(133)] * 3},  # the baseline's count on every seed
        "depth=varied": {"val": [rising(135), rising(134), rising(136 - 3)]},  # +2, +1, 0 examples
    }
    levels.update(extra)
    return levels


@pytest.fixture(scope="module")
def counted():
    return analyze(count_frames(_levels()))


def test_one_example_more_on_every_seed_is_exact_with_no_variance_and_a_sign_test(counted):
    c = counted.comparison("width=plus one", "best_val_accuracy")
    assert c.total == TOTAL and c.count_difference == 1
    assert c.difference.mean == 1 / TOTAL and c.difference.std == 0.0
    assert c.statistic == 1 / TOTAL and c.effect_size is None  # never t = 2e14 or d_z = 1e14
    assert c.test == "exact sign-flip permutation test"
    assert c.p_value == pytest.approx(stats.binomtest(3, 3, 0.5).pvalue)  # 0.25: all signs alike
    assert not c.significant


@pytest.mark.parametrize("with_sizes", [True, False])
def test_a_float_spread_of_one_ulp_is_no_variance(with_sizes):
    # 126/135 - 125/135, 127/135 - 126/135 and 130/135 - 129/135 differ in the last bit: the old
    # std == 0.0 guard saw variance there and gave t = 2e14, p = 2.5e-29 (the reproduction)
    floats = np.array([126, 127, 130]) / TOTAL - np.array([125, 126, 129]) / TOTAL
    assert floats.std(ddof=1) > 0.0
    a = analyze(count_frames({"baseline": {"val": [rising(125), rising(126), rising(129)]},
                              "width=plus one": {"val": [rising(126), rising(127), rising(130)]}},
                             with_sizes=with_sizes))
    c = a.comparison("width=plus one", "best_val_accuracy")
    assert c.statistic == pytest.approx(1 / TOTAL) and c.effect_size is None and c.difference.std == 0.0
    assert c.test == "exact sign-flip permutation test" and c.p_value == pytest.approx(0.25)
    assert c.count_difference == (1 if with_sizes else None)


def test_the_same_count_on_every_seed_is_an_exact_tie_without_a_test(counted):
    c = counted.comparison("width=same", "best_val_accuracy")
    assert c.difference.mean == 0.0 and c.difference.std == 0.0 and c.count_difference == 0
    assert c.p_value is None and c.p_holm is None and "no variance" in c.note
    base = counted.summaries["baseline"].metrics["best_val_accuracy"]
    assert base.std == 0.0 and base.lo == base.hi == 133 / TOTAL  # "identical", not "98.5% to 98.5%"


def test_float_ties_without_known_set_sizes_are_still_ties():
    a = analyze(count_frames(_levels(), with_sizes=False))
    c = a.comparison("width=plus one", "best_val_accuracy")
    assert c.total is None and c.difference.std == 0.0 and c.effect_size is None
    assert c.test == "exact sign-flip permutation test"


def test_differences_that_vary_get_the_exact_sign_flip_test_on_counts(counted):
    c = counted.comparison("depth=varied", "best_val_accuracy")
    base = np.array([133, 133, 133]) / TOTAL
    cand = np.array([135, 134, 133]) / TOTAL
    # +2, +1, 0 examples: of the 8 sign patterns, |mean| >= 1 for (+-2, +-1) with the same sign: 4 of 8
    assert c.test == "exact sign-flip permutation test"
    assert c.p_value == pytest.approx(0.5) and c.statistic == pytest.approx((cand - base).mean())
    assert c.effect_size == pytest.approx((cand - base).mean() / (cand - base).std(ddof=1))


def test_the_holm_family_is_every_comparison_on_every_metric_and_matches_statsmodels(counted):
    every = list(counted.comparisons)
    primary = [c for c in every if c.metric == "best_val_accuracy"]
    assert {c.variant for c in primary if c.testable} == {"width=plus one", "depth=varied"}
    # one pre-declared family: both metrics, those without a test ("same") counted as p = 1
    expected = multipletests([1.0 if c.p_value is None else c.p_value for c in every], method="holm")[1]
    assert [c.p_holm for c in every if c.testable] == pytest.approx(
        [p for c, p in zip(every, expected, strict=True) if c.testable])
    assert {c.family for c in every} == {len(every)}
    assert holm([0.01, None, 0.04, 0.03]) == pytest.approx([0.03, None, 0.06, 0.06])


def test_the_baseline_and_its_equals_reach_the_baselines_best(counted):
    reached = {(d.variant, d.seed): d.epochs_to_baseline for d in counted.trials}
    hit = rising(133).index(133) + 1  # the epoch whose count first reaches 133
    for variant in ("baseline", "width=same"):
        assert {reached[(variant, s)] for s in (0, 1, 2)} == {hit}, variant
    assert {reached[("width=plus one", s)] for s in (0, 1, 2)} == {hit}
    without_sizes = analyze(count_frames(_levels(), with_sizes=False))  # floats: a tolerant comparison
    assert {d.epochs_to_baseline for d in without_sizes.trials if d.variant == "baseline"} == {hit}


def test_accuracy_intervals_stay_inside_zero_to_one_hundred_percent():
    a = analyze(count_frames({"baseline": {"val": [rising(133)] * 3},
                              "depth=near top": {"val": [rising(133), rising(135), rising(133)]},
                              "depth=high": {"val": [rising(130), rising(134), rising(133)]}}))
    top = a.summaries["depth=near top"].metrics["best_val_accuracy"]
    assert 0.0 <= top.lo <= top.mean <= top.hi <= 1.0  # the t-interval reaches 101.1%
    t_hi = stats.t.interval(0.95, 2, loc=top.mean, scale=top.std / math.sqrt(3))[1]
    assert t_hi > 1.0 and top.method == "t, cut at the bound"
    high = estimate([0.9, 0.99, 0.995], bounds=(0.0, 1.0))
    logits = np.log(np.array([0.9, 0.99, 0.995]) / (1 - np.array([0.9, 0.99, 0.995])))
    lo, hi = stats.t.interval(0.95, 2, loc=logits.mean(), scale=stats.sem(logits))
    assert high.method == LOGIT_INTERVAL
    assert high.lo == pytest.approx(1 / (1 + math.exp(-lo)))
    assert high.hi == pytest.approx(1 / (1 + math.exp(-hi)))
    assert high.hi < 1.0


def test_a_collapsing_run_is_a_collapse_not_overfitting():
    collapse_train = [0.5, 0.7, 0.82, 0.6, 0.5, 0.48]  # training accuracy peaks at 82%, ends at 48%
    collapse_val_loss = [1.0, 0.6, 0.4, 0.9, 1.2, 1.3]  # validation loss rises after epoch 3 as well
    train_loss = [1.0, 0.7, 0.5, 0.45, 0.44, 0.40]
    a = analyze(count_frames({"baseline": {"val": [rising(133)] * 3},
                              "learning rate=huge": {"val": [rising(120)] * 3, "train": [collapse_train] * 3,
                                                     "val_loss": [collapse_val_loss] * 3,
                                                     "train_loss": [train_loss] * 3}}))
    trials = [d for d in a.trials if d.variant == "learning rate=huge"]
    assert all(d.collapsed and d.overfit_status == COLLAPSED and d.overfit_onset is None for d in trials)
    assert trials[0].train_drop == pytest.approx(0.82 - 0.48)
    assert a.summaries["learning rate=huge"].collapsed_seeds == 3
    assert a.summaries["learning rate=huge"].overfit_seeds == 0
    # the same curves with training accuracy that keeps climbing: that one overfits from epoch 3
    a = analyze(count_frames({"baseline": {"val": [rising(133)] * 3},
                              "learning rate=high": {"val": [rising(120)] * 3,
                                                     "val_loss": [collapse_val_loss] * 3,
                                                     "train_loss": [train_loss] * 3}}))
    assert {(d.overfit_status, d.overfit_onset) for d in a.trials if d.variant == "learning rate=high"} \
        == {(OVERFITS, 3)}


def test_an_onset_is_undetectable_when_the_minimum_is_at_the_last_epoch(counted):
    baseline = [d for d in counted.trials if d.variant == "baseline"]  # val loss falls to the last epoch
    assert all(d.overfit_status == UNDETECTABLE and d.overfit_onset is None for d in baseline)
    assert counted.summaries["baseline"].undetectable_seeds == 3


def test_sensitivity_matches_statsmodels_ttestpower():
    diffs = np.array([0.0074, 0.0, 0.0074])
    s = sensitivity(diffs)
    sd = diffs.std(ddof=1)
    power = TTestPower()
    assert s.detectable == pytest.approx(power.solve_power(nobs=3, alpha=0.05, power=0.8) * sd)
    assert s.seeds_needed == math.ceil(power.solve_power(effect_size=diffs.mean() / sd, alpha=0.05,
                                                         power=0.8))
    assert sensitivity(np.array([0.01, 0.01, 0.01])).detectable is None  # no spread: nothing to solve
    tiny = sensitivity(np.array([0.001, -0.03, 0.03]))
    assert tiny.seeds_needed == 1001  # "more than 1000 seeds"


def test_the_pareto_front_is_chosen_on_validation(counted):
    for point in counted.cost:
        assert point.score == counted.summaries[point.variant].metrics["best_val_accuracy"].mean


def test_paired_compare_counts_only_when_both_sides_are_whole_examples():
    c = paired_compare("v", "m", {0: 0.5, 1: 0.5, 2: 0.5}, {0: 0.51, 1: 0.52, 2: 0.53}, total=10)
    assert c.total is None and c.test == "exact sign-flip permutation test"  # 0.51: not a count of 10
