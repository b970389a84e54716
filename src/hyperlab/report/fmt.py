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

    'differs by -13.3 points (95% CI -17.0 to -9.7, exact sign-flip permutation test p = 0.002,
    Holm-adjusted 0.03 in a family of 16, n = 10)'; 'too few seeds to test (needs at least 10): ...'
    below the seeds at which the family's alpha is reachable at all; 'equivalent within +-1 point
    (TOST ...)' when the study declares a smallest effect; else 'no difference detected (...)'.
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
                f"no test; {n}){_equivalence_tail(metric, c)}")
    stats = f"{c.test} {p_phrase(c.p_value)}, Holm-adjusted {p_value(c.p_holm)} {_family(c)}, {n}"
    if c.constant:
        body = f"{shift(metric, c)} on all {c.n} seeds (no CI: no variance; {stats})"
    else:
        body = f"{delta(metric, d.mean)}, {ci(metric, d, as_delta=True)}, {stats}"
    if c.significant:
        return f"differs by {body}" if c.constant \
            else f"differs by {delta(metric, d.mean)} ({ci(metric, d, as_delta=True)}, {stats})"
    eq = c.equivalence
    if eq is not None and eq.equivalent:
        return (f"equivalent within {margin(metric, eq.margin)} (TOST p = {p_value(eq.p_value)}, "
                f"Holm-adjusted {p_value(eq.p_holm)}; {body})")
    if c.too_few_seeds:
        text = f"too few seeds to test (needs at least {c.seeds_to_detect}): {body}"
    else:
        text = f"no difference detected ({body})"
    text += _equivalence_tail(metric, c)
    return text + (f"; {sensitivity(metric, c)}" if power and sensitivity(metric, c) else "")


def _family(c: PairedComparison) -> str:
    return f"in a family of {c.family}"


def margin(metric: MetricInfo, value: float) -> str:
    """'+-1 point' (accuracies) or '+-0.01'."""
    if metric.percent:
        points = 100 * value
        return f"\u00b1{points:g} point{'s' if points != 1 else ''}"
    return f"\u00b1{value:.3g}"


def _equivalence_tail(metric: MetricInfo, c: PairedComparison) -> str:
    """'; not shown equivalent within +-1 point (TOST p = 0.3, Holm-adjusted 0.9)' or ''."""
    eq = c.equivalence
    if eq is None or eq.equivalent:
        return ""
    if eq.p_value is None:
        return f"; no equivalence test within {margin(metric, eq.margin)} ({eq.note})"
    return (f"; not shown equivalent within {margin(metric, eq.margin)} (TOST p = {p_value(eq.p_value)}, "
            f"Holm-adjusted {p_value(eq.p_holm)})")


def sensitivity(metric: MetricInfo, c: PairedComparison) -> str:
    """'at this spread 3 seeds detect 4.1 points with 80% power at the family's alpha 0.0031; +0.5
    points would need 40 seeds (12 to 900 over the SD's 95% CI)' ('' when not computable)."""
    s = c.sensitivity
    if s.detectable is None:
        return ""
    size = delta(metric, s.detectable).lstrip("+")
    text = (f"at this spread {c.n} seeds detect {size} with {int(POWER * 100)}% power at the family's "
            f"alpha {s.alpha:.2g}")
    if s.seeds_needed is not None:
        text += f", and {delta(metric, c.difference.mean)} would need {seeds_needed(s.seeds_needed)}"
        if s.seeds_range is not None and s.seeds_range[0] != s.seeds_range[1]:
            low, high = s.seeds_range
            text += f" ({seeds_needed(low).removesuffix(' seeds')} to {seeds_needed(high)} over the 95% CI " \
                    "of the differences' SD)"
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
    eq = comparison.equivalence
    if not comparison.testable:
        if comparison.note.startswith("not enough"):
            return "not enough seeds for a test"
        return "no difference on any seed (no test)"
    if comparison.significant:
        return "differs (Holm p < 0.05)"
    if eq is not None and eq.equivalent:
        return "equivalent (TOST, Holm p < 0.05)"
    if comparison.too_few_seeds:
        return f"too few seeds to test (needs at least {comparison.seeds_to_detect})"
    return "no difference detected"


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
