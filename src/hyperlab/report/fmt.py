"""Number formatting for the report: one place decides how an estimate, a CI or a p-value reads.

Nothing here ever prints "nan" or "None": a missing number reads "n/a" (with the reason nearby).
"""

from __future__ import annotations

import math

from hyperlab.analysis.results import MetricInfo
from hyperlab.analysis.stats import (
    CLIPPED_INTERVAL,
    LOGIT_INTERVAL,
    MAX_SEEDS_NEEDED,
    POWER,
    Estimate,
    PairedComparison,
)

MISSING = "n/a"


def _ok(value: float | None) -> bool:
    return value is not None and math.isfinite(value)


def number(value: float | None, digits: int = 3) -> str:
    """A plain number with `digits` significant digits (integers stay integers)."""
    if not _ok(value):
        return MISSING
    if float(value).is_integer() and abs(value) < 1e15:
        return f"{int(value):,}"
    return f"{value:.{digits}g}"


def count(value: float | None) -> str:
    """A large count (params, FLOPs) as 12.3k / 4.56M / 7.8G."""
    if not _ok(value):
        return MISSING
    for threshold, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= threshold:
            return f"{value / threshold:.3g}{suffix}"
    return f"{value:.3g}"


def value(metric: MetricInfo, x: float | None) -> str:
    """A metric's value: accuracy as percent with one decimal, others with 3 significant digits."""
    if not _ok(x):
        return MISSING
    return f"{100 * x:.1f}%" if metric.percent else f"{x:.3g}"


def delta(metric: MetricInfo, x: float | None, *, unit: bool = True) -> str:
    """A difference: signed points for accuracies (+1.8 points), signed 3 significant digits else."""
    if not _ok(x):
        return MISSING
    if metric.percent:  # round first: -0.04 points reads "+0.0", never "-0.0"
        return f"{round(100 * x, 1) + 0.0:+.1f}" + (" points" if unit else "")
    return f"{float(f'{x:.3g}') + 0.0:+.3g}"


def _points(x: float) -> str:
    return f"{round(100 * x, 1) + 0.0:.1f}"


def ci(metric: MetricInfo, est: Estimate, *, as_delta: bool = False) -> str:
    """'95% CI lo to hi' in the metric's unit (naming the interval when it is not the plain t-interval),
    or the reason there is none."""
    if not (_ok(est.lo) and _ok(est.hi)):
        return "no CI with 1 seed" if est.n == 1 else "no CI"
    if est.std == 0.0:
        return f"no CI: the same on all {est.n} seeds"
    label = {LOGIT_INTERVAL: "95% logit-t CI", CLIPPED_INTERVAL: "95% CI cut at the bound"}.get(
        est.method, "95% CI")
    if metric.percent:
        lo, hi = _points(est.lo), _points(est.hi)
        return f"{label} {lo} to {hi}" if as_delta else f"{label} {lo}% to {hi}%"
    return f"{label} {est.lo:.3g} to {est.hi:.3g}"


def mean_ci(metric: MetricInfo, est: Estimate) -> str:
    """'90.1% (95% CI 89.0% to 91.2%)' for tables."""
    if est.mean is None:
        return MISSING
    return f"{value(metric, est.mean)} ({ci(metric, est)})"


def mean_ci_n(metric: MetricInfo, est: Estimate) -> str:
    """'90.1% (95% CI 89.0% to 91.2%, n = 3)' for sentences."""
    if est.mean is None:
        return MISSING
    return f"{value(metric, est.mean)} ({ci(metric, est)}, n = {est.n})"


def shift(metric: MetricInfo, comparison: PairedComparison) -> str:
    """The difference as counted: '+1 example (+0.7 points)' when it is the same whole number of
    examples on every seed, else the signed difference."""
    d = comparison.difference
    if comparison.count_difference is not None:
        k = comparison.count_difference
        if k == 0:
            return "0 examples (0.0 points)" if metric.percent else "0 examples"
        return f"{k:+d} example{'s' if abs(k) != 1 else ''} ({delta(metric, d.mean)})"
    return delta(metric, d.mean)


def finding(metric: MetricInfo, c: PairedComparison, *, power: bool = True) -> str:
    """One tested comparison in words, always with its n and its CI (or why there is none):

    'differs by -13.3 points (95% CI -17.0 to -9.7, paired t-test p = 0.004, Holm-adjusted 0.025, n = 3)',
    'no difference detected (+0.5 points, 95% CI -0.6 to 1.6, paired t-test p = 0.18, Holm-adjusted
    0.73, n = 3)', the exact treatment of a difference with no variance, or 'descriptive' with too
    few seeds for a test.
    """
    d = c.difference
    n = f"n = {c.n}"
    if d.mean is None:
        return f"no paired seeds ({n})"
    if c.n < 3:
        return (f"descriptive, not enough seeds for a test: {delta(metric, d.mean)} "
                f"({ci(metric, d, as_delta=True)}, {n})")
    if c.constant and d.mean == 0.0:
        return (f"no difference on any seed (the same value on all {c.n} seeds: no CI, no variance, "
                f"no test; {n})")
    if c.constant:
        verdict = "differs by" if c.significant else "no difference detected:"
        return (f"{verdict} {shift(metric, c)} on all {c.n} seeds (no CI: no variance, so no t-test; "
                f"{c.test} {p_phrase(c.p_value)}, Holm-adjusted {p_value(c.p_holm)}, {n})")
    stats = f"{c.test} {p_phrase(c.p_value)}, Holm-adjusted {p_value(c.p_holm)}, {n}"
    if c.significant:
        return f"differs by {delta(metric, d.mean)} ({ci(metric, d, as_delta=True)}, {stats})"
    text = f"no difference detected ({delta(metric, d.mean)}, {ci(metric, d, as_delta=True)}, {stats})"
    return text + (f"; {sensitivity(metric, c)}" if power and sensitivity(metric, c) else "")


def sensitivity(metric: MetricInfo, c: PairedComparison) -> str:
    """'with this spread, 3 seeds detect a difference of 1.4 points at 80% power; +0.5 points would
    need 9 seeds' ('' when not computable)."""
    s = c.sensitivity
    if s.detectable is None:
        return ""
    size = delta(metric, s.detectable).lstrip("+")
    text = f"at this spread {c.n} seeds detect {size} with {int(POWER * 100)}% power before correction"
    if s.seeds_needed is not None:
        text += f", and {delta(metric, c.difference.mean)} would need {seeds_needed(s.seeds_needed)}"
    return text


def seeds_needed(k: int | None) -> str:
    if k is None:
        return MISSING
    return f"more than {MAX_SEEDS_NEEDED} seeds" if k > MAX_SEEDS_NEEDED else f"{k} seeds"


def p_value(p: float | None) -> str:
    """p with two significant digits, '< 0.001' below that."""
    if not _ok(p):
        return MISSING
    if p < 0.001:
        return "< 0.001"
    return f"{p:.2g}" if p < 0.1 else f"{p:.2f}"


def p_phrase(p: float | None) -> str:
    """'p = 0.02' or 'p < 0.001'."""
    text = p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def verdict(comparison: PairedComparison) -> str:
    """A short verdict for tables."""
    if not comparison.testable:
        return "not enough seeds for a test" if comparison.note.startswith("not enough") \
            else "no difference on any seed (no test)"
    return "differs (Holm p < 0.05)" if comparison.significant else "no difference detected"


def seconds(x: float | None) -> str:
    if not _ok(x):
        return MISSING
    return f"{x:.2f} s" if x < 10 else f"{x:.0f} s"


def epoch(x: float | None) -> str:
    return MISSING if not _ok(x) else f"{x:.0f}" if abs(x - round(x)) < 0.05 else f"{x:.1f}"


def config_value(x: object) -> str:
    """A config value as the study file would spell it."""
    if isinstance(x, bool):
        return str(x).lower()
    if x is None:
        return "none"
    if isinstance(x, float):
        return f"{x:g}"
    if isinstance(x, list | tuple):
        return "[" + ", ".join(config_value(v) for v in x) + "]"
    return str(x)
