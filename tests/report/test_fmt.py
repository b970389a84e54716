"""How numbers read in the report: signs, p-values, missing values (never "nan" or "None")."""

from __future__ import annotations

from hyperlab.analysis import Estimate, MetricInfo
from hyperlab.report import fmt

ACCURACY = MetricInfo("best_val_accuracy", "best validation accuracy", True, True)
LOSS = MetricInfo("best_val_loss", "best validation loss", False, False)


def test_differences_are_signed_points_and_never_negative_zero():
    assert fmt.delta(ACCURACY, -0.018) == "-1.8 points"
    assert fmt.delta(ACCURACY, -0.0004) == "+0.0 points"
    assert fmt.delta(ACCURACY, 0.0123, unit=False) == "+1.2"
    assert fmt.delta(LOSS, 0.01234) == "+0.0123"


def test_p_values_and_missing_numbers():
    assert fmt.p_phrase(0.0004) == "p < 0.001"
    assert fmt.p_phrase(0.0213) == "p = 0.021"
    assert fmt.p_value(0.456) == "0.46"
    assert fmt.p_value(None) == fmt.p_value(float("nan")) == "n/a"
    assert fmt.ci(ACCURACY, Estimate(0.9, None, None, None, 1)) == "no CI with 1 seed"
    assert fmt.ci(ACCURACY, Estimate(0.9, 0.0, 0.9, 0.9, 3)) == "no CI: the same on all 3 seeds"
    assert fmt.ci(ACCURACY, Estimate(0.9, 0.01, 0.875, 0.925, 3)) == "95% CI 87.5% to 92.5%"
    assert fmt.ci(ACCURACY, Estimate(0.99, 0.01, 0.97, 1.0, 3, "t, cut at the bound")) \
        == "95% CI cut at the bound 97.0% to 100.0%"
    assert fmt.ci(ACCURACY, Estimate(0.9, 0.05, -0.0004, 0.925, 3), as_delta=True) == "95% CI 0.0 to 92.5"
    assert fmt.mean_ci(ACCURACY, Estimate(None, None, None, None, 0)) == "n/a"
    assert fmt.count(4810) == "4.81k" and fmt.count(2.5e9) == "2.5G"
    assert fmt.config_value([64, 64]) == "[64, 64]" and fmt.config_value(True) == "true"
