"""Render a `StudyComparison` as table rows of text (the CLI's table and the dashboard's page)."""

from __future__ import annotations

from hyperlab.analysis.compare import MatchedVariant, StudyComparison
from hyperlab.analysis.stats import ALPHA
from hyperlab.report import fmt

DIFFERS = "configs differ in"
COLUMNS = ("variant", "pairing", "A", "B", "B - A (95% CI)", "test", "p (Holm)", "n", "verdict", DIFFERS)


def comparison_rows(comparison: StudyComparison) -> list[dict[str, str]]:
    """One dict per matched variant, keyed by COLUMNS, every value already formatted."""
    metric = comparison.metric
    rows = []
    for row in comparison.rows:
        difference = row.difference
        interval = ""
        if difference.lo is not None and difference.hi is not None:
            lo = fmt.delta(metric, difference.lo, unit=False)
            interval = f" ({lo} to {fmt.delta(metric, difference.hi, unit=False)})"
        same_name = row.variant_a == row.variant_b
        rows.append({
            "variant": row.variant_a if same_name else f"{row.variant_a} ~ {row.variant_b}",
            "pairing": "paired by seed" if row.pairing == "paired" else "unpaired",
            "A": fmt.value(metric, row.a.mean) + f" (n={row.a.n})",
            "B": fmt.value(metric, row.b.mean) + f" (n={row.b.n})",
            "B - A (95% CI)": fmt.delta(metric, difference.mean) + interval,
            "test": row.test or "none",
            "p (Holm)": f"{fmt.p_value(row.p_value)} ({fmt.p_value(row.p_holm)})",
            "n": str(row.n),
            "verdict": _verdict(row) + (" (trained under different numerics)" if row.numerics_differ else ""),
            DIFFERS: "; ".join(f"{c.key}: {fmt.config_value(c.baseline)} -> "
                                           f"{fmt.config_value(c.value)}" for c in row.config_differences)
            or "nothing (same config)",
        })
    return rows


def _verdict(row: MatchedVariant) -> str:
    if row.p_value is None:
        return row.note or "no test"
    if row.p_holm is not None and row.p_holm < ALPHA:
        return "differs (Holm p < 0.05)"
    return "not distinguishable"


def summary_line(comparison: StudyComparison) -> str:
    """What was compared, how, and what has no counterpart."""
    paired = sum(r.pairing == "paired" for r in comparison.rows)
    text = (f"{comparison.study_b} - {comparison.study_a} on {comparison.metric.label}: "
            f"{len(comparison.rows)} matched variants ({paired} paired by seed with the exact sign-flip "
            f"permutation test, "
            f"{len(comparison.rows) - paired} unpaired with Welch's t-test); p-values Holm-adjusted.")
    if comparison.only_a:
        text += f" Only in {comparison.study_a}: {', '.join(comparison.only_a)}."
    if comparison.only_b:
        text += f" Only in {comparison.study_b}: {', '.join(comparison.only_b)}."
    differ = [r for r in comparison.rows if r.numerics_differ]
    if differ:
        text += (f" {len(differ)} matched variant(s) trained under different numerics in the two studies "
                 f"(device, dtype, torch, threads or determinism: rounding differs, docs/performance.md): "
                 + "; ".join(f"{r.variant_a}: {r.numerics_differ}" for r in differ) + ".")
    return text
