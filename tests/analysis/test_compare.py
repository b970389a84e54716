"""compare_studies: variants matched by name or config, paired by seed when 3+ seeds match, else Welch."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from hyperlab.analysis.compare import PAIRED_TEST, WELCH_TEST, compare_studies
from hyperlab.analysis.stats import holm
from hyperlab.errors import UserError
from hyperlab.store.frames import StudyFrames


def frames(name: str, values: dict[str, dict[int, float]], configs: dict[str, dict],
           statuses: dict[tuple[str, int], str] | None = None, workspace: str = "") -> StudyFrames:
    """A study whose variant v, seed s finished with test accuracy values[v][s]; a trial's key is its
    config and seed (and the workspace, standing for another engine version)."""
    statuses = statuses or {}
    trials, finals = [], []
    for variant, by_seed in values.items():
        for seed, value in by_seed.items():
            key = f"{workspace}{json.dumps(configs[variant], sort_keys=True)}/{seed}"
            trials.append({"trial_key": key, "variant": variant, "seed": seed,
                           "status": statuses.get((variant, seed), "completed"),
                           "config": json.dumps(configs[variant])})
            finals.append({"trial_key": key, "variant": variant, "seed": seed, "test_accuracy": value})
    return StudyFrames(trials=pd.DataFrame(trials), epochs=pd.DataFrame(), finals=pd.DataFrame(finals),
                       variants=pd.DataFrame({"variant": list(values)}), study={"name": name})


def cfg(lr: float, hidden: int = 32) -> dict:
    return {"model": {"hidden": [hidden]}, "train": {"optimizer": {"lr": lr}}}


def test_paired_by_seed_when_three_seeds_match_and_welch_otherwise():
    a = frames("a", {"baseline": {0: 0.80, 1: 0.82, 2: 0.81}, "lr": {0: 0.70, 1: 0.72, 2: 0.69, 3: 0.71}},
               {"baseline": cfg(0.1), "lr": cfg(0.01)})
    b = frames("b", {"baseline": {0: 0.85, 1: 0.86, 2: 0.84}, "lr": {7: 0.75, 8: 0.73, 9: 0.78}},
               {"baseline": cfg(0.1, 64), "lr": cfg(0.01, 64)})
    result = compare_studies(a, b)
    assert result.metric.key == "test_accuracy"
    paired, welch = result.rows
    assert (paired.pairing, paired.test, paired.seeds) == ("paired", PAIRED_TEST, (0, 1, 2))
    # the exact sign-flip test: 3 seeds all in one direction give 2 / 2^3
    assert paired.p_value == pytest.approx(0.25)
    assert paired.difference.mean == pytest.approx(0.04)
    assert [(c.key, c.baseline, c.value) for c in paired.config_differences] == [("model.hidden", [32], [64])]

    assert (welch.pairing, welch.test, welch.seeds) == ("unpaired", WELCH_TEST, ())
    b_vals, a_vals = [0.75, 0.73, 0.78], [0.70, 0.72, 0.69, 0.71]
    expected = stats.ttest_ind(b_vals, a_vals, equal_var=False)
    interval = expected.confidence_interval(0.95)
    assert welch.p_value == pytest.approx(expected.pvalue)
    assert (welch.difference.lo, welch.difference.hi) == pytest.approx((interval.low, interval.high))
    assert welch.n == 7 and "unpaired: 0 seeds finished in both" in welch.note
    assert [r.p_holm for r in result.rows] == pytest.approx(holm([paired.p_value, welch.p_value]))


def test_matching_by_config_unmatched_variants_and_unfinished_trials():
    a = frames("a", {"baseline": {0: 0.8, 1: 0.81, 2: 0.79}, "only-a": {0: 0.5, 1: 0.5, 2: 0.5}},
               {"baseline": cfg(0.1), "only-a": cfg(0.3)}, statuses={("baseline", 2): "failed"})
    b = frames("b", {"renamed": {0: 0.9, 1: 0.9, 2: 0.92}, "only-b": {0: 0.4, 1: 0.4, 2: 0.4}},
               {"renamed": cfg(0.1), "only-b": cfg(0.5)}, workspace="other/")
    result = compare_studies(a, b)
    (row,) = result.rows
    assert (row.variant_a, row.variant_b, row.matched_by) == ("baseline", "renamed", "config")
    assert row.config_differences == ()
    # seed 2 of A failed: only 2 seeds finished in both, so the pair is compared unpaired (Welch)
    assert row.a.n == 2 and row.pairing == "unpaired" and row.test == WELCH_TEST
    assert result.only_a == ("only-a",) and result.only_b == ("only-b",)


def test_identical_trials_are_not_tested_and_bad_metric_is_a_user_error():
    a = frames("a", {"baseline": {0: 0.8, 1: 0.82, 2: 0.81}}, {"baseline": cfg(0.1)})
    b = frames("b", {"baseline": {0: 0.8, 1: 0.82, 2: 0.81}}, {"baseline": cfg(0.1)})
    (row,) = compare_studies(a, b).rows
    assert row.same_trials and row.p_value is None and "the same trials" in row.note
    with pytest.raises(UserError, match="--metric: must be one of test_accuracy, got 'f1'"):
        compare_studies(a, b, "f1")


def test_one_trial_key_with_other_numbers_in_another_workspace_is_compared_not_called_the_same():
    # issue 29: two workspaces of one study file (same keys), trained where the numbers differ
    a = frames("quickstart", {"lr=0.5": {0: 0.61, 1: 0.60, 2: 0.64}}, {"lr=0.5": cfg(0.5)})
    b = frames("quickstart", {"lr=0.5": {0: 0.68, 1: 0.69, 2: 0.70}}, {"lr=0.5": cfg(0.5)})
    (row,) = compare_studies(a, b).rows
    assert not row.same_trials and row.test == PAIRED_TEST
    assert row.difference.mean == pytest.approx(0.0733333)
    exact = stats.permutation_test(([0.07, 0.09, 0.06],), np.mean, permutation_type="samples",
                                   n_resamples=np.inf).pvalue  # the exact sign-flip test: 2/8 at n = 3
    assert row.p_value == pytest.approx(exact)
