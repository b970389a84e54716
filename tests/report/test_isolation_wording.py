"""Whether an effect survives re-tuning is worded from both tests and the re-tuned interval: "does not
survive" only when that interval holds zero and excludes the fixed-value difference."""

from __future__ import annotations

from dataclasses import replace

from hyperlab.analysis.isolation import Contrast
from hyperlab.analysis.stats import paired_compare, with_holm
from hyperlab.report.isolation import survival

# 8 seeds: the paired tests are exact sign-flip tests, whose smallest two-sided p is 2 / 2^n; with 5
# seeds (0.0625) no difference could ever be significant and the rule under test would go unexercised
BASE = {0: 0.90, 1: 0.91, 2: 0.92, 3: 0.90, 4: 0.93, 5: 0.91, 6: 0.92, 7: 0.90}


def _contrast(fixed: dict, retuned: dict, holm_retuned: float | None = None) -> Contrast:
    """`holm_retuned`: the re-tuned test's Holm-adjusted p as a larger family would give it."""
    f = with_holm([paired_compare("b vs a", "m", BASE, fixed)])[0]
    r = with_holm([paired_compare("b vs a", "m", BASE, retuned)])[0]
    if holm_retuned is not None:
        r = replace(r, p_holm=holm_retuned)
    return Contrast("a", "b", "m", f, r)


def test_the_survival_sentence_follows_the_tests_and_the_retuned_interval():
    big = {s: v - 0.10 + 0.003 * (s % 2) for s, v in BASE.items()}  # -10 points on every seed, small spread
    assert survival(_contrast(big, big)) == "The effect survives re-tuning."
    gone = {s: v + 0.004 * ((s % 3) - 1) for s, v in BASE.items()}  # around zero, tight
    assert survival(_contrast(big, gone)).startswith("The effect at fixed values does not survive re-tuning")
    wide = {0: 0.70, 1: 0.95, 2: 0.80, 3: 0.97, 4: 0.78, 5: 0.96, 6: 0.75, 7: 0.99}  # CI: 0 and -10 points
    assert survival(_contrast(big, wide)).startswith("Re-tuned, no difference is detected, but the re-tuned "
                                                     "CI still contains the fixed-value difference")
    smaller = {s: v - 0.03 + 0.004 * ((s % 3) - 1) for s, v in BASE.items()}  # -3 points, CI excludes 0
    weak = _contrast(big, smaller, holm_retuned=0.2)  # in a large family: not significant after Holm
    assert weak.retuned.difference.hi < 0 and not weak.retuned.significant
    assert survival(weak).startswith("Re-tuned, the difference keeps its sign and its unadjusted CI excludes")
    assert survival(_contrast(gone, gone)) == "No difference is detected either way."
