"""Number formatting for the report: one place decides how an estimate, a CI or a p-value reads.

Nothing here ever prints "nan" or "None": a missing number reads "n/a" (with the reason nearby).
"""

from __future__ import annotations

import math

from hyperlab.analysis.results import MetricInfo
from hyperlab.analysis.stats import Estimate, PairedComparison

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


def ci(metric: MetricInfo, est: Estimate, *, as_delta: bool = False) -> str:
    """'95% CI lo to hi' in the metric's unit, or the reason there is none."""
    if not (_ok(est.lo) and _ok(est.hi)):
        return "no CI with 1 seed" if est.n == 1 else "no CI"
    if est.std == 0.0:
        return f"identical on all {est.n} seeds"
    if metric.percent:
        lo, hi = 100 * est.lo, 100 * est.hi
        return f"95% CI {lo:.1f} to {hi:.1f}" if as_delta else f"95% CI {lo:.1f}% to {hi:.1f}%"
    return f"95% CI {est.lo:.3g} to {est.hi:.3g}"


def mean_ci(metric: MetricInfo, est: Estimate) -> str:
    """'90.1% (95% CI 89.0% to 91.2%)' for tables."""
    if est.mean is None:
        return MISSING
    return f"{value(metric, est.mean)} ({ci(metric, est)})"


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


def test_clause(comparison: PairedComparison) -> str:
    """'paired t-test p = 0.02, Holm-adjusted 0.04; 3 seeds' or the reason there is no test."""
    seeds = f"{comparison.n} seed{'s' if comparison.n != 1 else ''}"
    if not comparison.testable:
        reason = "not enough seeds for a test" if comparison.note.startswith("not enough") \
            else comparison.note
        return f"{reason}; {seeds}"
    return (f"{comparison.test} {p_phrase(comparison.p_value)}, Holm-adjusted "
            f"{p_value(comparison.p_holm)}; {seeds}")


def verdict(comparison: PairedComparison) -> str:
    """A short verdict for tables."""
    if not comparison.testable:
        return "not enough seeds for a test" if comparison.note.startswith("not enough") \
            else "no test (no variance)"
    return "differs (Holm p < 0.05)" if comparison.significant else "not distinguishable"


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
