"""Seeds until settled: the rule on plain data (hyperlab.analysis.settle.next_seeds)."""

from __future__ import annotations

import pytest
from scipy import stats

from hyperlab.analysis.settle import half_width, next_seeds

BASE = {0: 0.90, 1: 0.92, 2: 0.91}


def test_a_settled_comparison_gets_no_seed_and_an_unsettled_one_gets_its_next_with_the_baseline():
    values = {"baseline": BASE,
              "calm": {s: v + 0.01 for s, v in BASE.items()},  # the same difference: half-width 0
              "noisy": {0: 0.80, 1: 0.92, 2: 0.70}}
    found = next_seeds(values, "baseline", minimum=3, maximum=6, target=1.0)
    assert [(a.variant, a.seed) for a in found] == [("noisy", 3), ("baseline", 3)]
    diffs = [-0.10, 0.0, -0.21]
    expected = stats.t.ppf(0.975, 2) * stats.tstd(diffs) / 3**0.5
    assert half_width(diffs) == pytest.approx(expected)
    assert found[0].reason == (f"not settled: 95% CI half-width {100 * expected:.3g} points > target 1 "
                               f"points "
                               f"with 3 paired seeds")
    assert found[1].reason == "matched seed for noisy"


def test_max_seeds_ends_it_and_unusable_seeds_count_toward_max_but_not_the_pairs():
    noisy = {0: 0.80, 1: 0.92, 2: 0.70, 3: 0.95, 4: 0.60, 5: 0.99}
    base = {s: 0.9 for s in range(6)}
    assert next_seeds({"baseline": base, "noisy": noisy}, "baseline", minimum=3, maximum=6, target=1.0) == []
    failed = {0: 0.91, 1: None, 2: 0.91}  # seed 1 diverged: 2 usable pairs, fewer than min
    found = next_seeds({"baseline": BASE | {3: 0.9}, "v": failed}, "baseline", minimum=3, maximum=4,
                       target=1.0)
    assert [(a.variant, a.seed) for a in found] == [("v", 3)]  # the baseline already has seed 3
    assert found[0].reason == "not settled: 2 usable paired seeds, fewer than min = 3"


def test_the_baseline_gets_every_seed_a_variant_has_even_one_added_before_a_kill():
    # A variant's seed 3 recorded (and trained) while the baseline's seed 3 was not: it is added again.
    values = {"baseline": BASE, "v": {0: 0.91, 1: 0.93, 2: 0.92, 3: 0.92}}
    found = next_seeds(values, "baseline", minimum=3, maximum=6, target=1.0)
    assert ("baseline", 3) in [(a.variant, a.seed) for a in found]


def test_the_target_is_in_the_metrics_unit_when_it_is_not_an_accuracy():
    base = {0: 0.30, 1: 0.32, 2: 0.31}
    variant = {0: 0.35, 1: 0.33, 2: 0.40}
    assert next_seeds({"baseline": base, "v": variant}, "baseline", minimum=3, maximum=5, target=1.0,
                      percent=False) == []
    assert len(next_seeds({"baseline": base, "v": variant}, "baseline", minimum=3, maximum=5, target=0.01,
                          percent=False)) == 2
