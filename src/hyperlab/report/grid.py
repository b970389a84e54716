"""A grid study's heatmaps and sentences: the primary metric over each pair of factors (heatmap with
CIs), and the findings worded from the two-way ANOVA with its interaction term and the best level of
each factor at each level of the other (docs/report.md, "Grids"). The section that holds them is
built by hyperlab.report.grid_section."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib as mpl
import numpy as np

from hyperlab.analysis.grid import Anova, BestLevels, GridAnalysis, GridPair
from hyperlab.analysis.results import MetricInfo, StudyAnalysis
from hyperlab.analysis.stats import ALPHA
from hyperlab.report import figures as figs
from hyperlab.report import fmt

ANOVA_TEST = "two-way ANOVA with interaction (statsmodels ols + anova_lm, type II sums of squares)"


def heatmap_figure(analysis: StudyAnalysis, pair: GridPair, folder: Path) -> figs.FigureFile:
    """The pair's cells as a heatmap: each cell's mean and 95% interval written in it; the best cell of
    each column outlined."""
    metric = analysis.primary
    scale = 100.0 if metric.percent else 1.0
    means = np.array([[np.nan if e.mean is None else scale * e.mean for e in row] for row in pair.cells])
    n_rows, n_cols = means.shape
    longest = max(len(label) for label in pair.col_levels)
    with mpl.rc_context(figs.RC):
        # Sized from the content: 1.15 in per column, 0.75 in per row, room for the colour bar; the
        # constrained layout then makes room for every tick label and title (nothing is clipped).
        fig = figs._figure(max(4.2, 1.15 * n_cols + 2.4), max(2.6, 0.75 * n_rows + 1.6))
        ax = fig.subplots()
        finite = means[np.isfinite(means)]
        cmap = "viridis" if metric.higher_is_better else "viridis_r"
        image = ax.imshow(means, cmap=cmap, aspect="auto",
                          vmin=float(finite.min()) if len(finite) else 0.0,
                          vmax=float(finite.max()) if len(finite) else 1.0)
        middle = float(np.nanmean(finite)) if len(finite) else 0.0
        for (r, c), value in np.ndenumerate(means):
            if not math.isfinite(value):
                ax.text(c, r, "no trials", ha="center", va="center", fontsize=7)
                continue
            e = pair.cells[r][c]
            text = f"{value:.1f}" if metric.percent else f"{value:.3g}"
            if e.lo is not None and e.hi is not None:
                lo, hi = scale * e.lo, scale * e.hi
                text += f"\n[{lo:.1f}, {hi:.1f}]" if metric.percent else f"\n[{lo:.3g}, {hi:.3g}]"
            bright = (value > middle) == metric.higher_is_better
            ax.text(c, r, text, ha="center", va="center", fontsize=7, color="black" if bright else "white")
        for col_level, best, _ in pair.best_row_per_col.rows:
            r, c = pair.row_levels.index(best), pair.col_levels.index(col_level)
            ax.add_patch(mpl.patches.Rectangle((c - 0.48, r - 0.48), 0.96, 0.96, fill=False,
                                               edgecolor="#e8590c", linewidth=2))
        ax.set_xticks(range(n_cols), pair.col_levels, rotation=30 if longest > 8 else 0,
                      ha="right" if longest > 8 else "center")
        ax.set_yticks(range(n_rows), pair.row_levels)
        ax.set_xlabel(pair.cols)
        ax.set_ylabel(pair.rows)
        unit = " (%)" if metric.percent else ""
        fig.colorbar(image, ax=ax, label=f"mean {metric.label}{unit}")
        ax.set_title(f"{metric.label}: {pair.rows} x {pair.cols}")
    over = (f" Each cell averages, seed by seed, over the levels of {', '.join(pair.averaged_over)}."
            if pair.averaged_over else "")
    return figs.save(fig, folder, f"grid-{figs.slug(pair.rows)}-x-{figs.slug(pair.cols)}",
                     f"Heatmap: {pair.rows} x {pair.cols}",
                     f"Mean {metric.label} over seeds in each cell, with its 95% interval in brackets "
                     f"(t-interval; logit-t for an accuracy whose t-interval would leave 0-100%). The "
                     f"outlined cell of each column is the best {pair.rows} at that {pair.cols} "
                     f"(descriptive).{over}")


# --- sentences -----------------------------------------------------------------------------------
def grid_sentences(analysis: StudyAnalysis) -> list[str]:
    """The grid's findings in words: its reference (or none), each pair's interaction test, and how
    the best level of each factor moves with the other."""
    grid = analysis.grid
    if not isinstance(grid, GridAnalysis):
        return []
    lines = [reference_sentence(analysis, grid)]
    for pair in grid.pairs:
        lines.append(anova_sentence(pair))
        for best in (pair.best_row_per_col, pair.best_col_per_row):
            sentence = best_sentence(analysis.primary, best)
            if sentence:
                lines.append(sentence)
    return lines


def reference_sentence(analysis: StudyAnalysis, grid: GridAnalysis) -> str:
    if grid.baseline_cell is not None:
        return (f"The study file's baseline is the cell {grid.baseline_cell}: every other cell is compared "
                f"with it seed by seed in the paired comparisons (Holm-corrected).")
    values = ", ".join(f"{name} = {value}" for name, value in grid.baseline_values.items())
    where = f" (the file's baseline has {values})" if values else ""
    return (f"No cell of this grid is the study file's baseline{where}, so there is no reference cell: no "
            f"cell is tested against another one by one; the grid is read through the ANOVA and the best "
            f"levels below.")


def anova_sentence(pair: GridPair) -> str:
    anova: Anova = pair.anova
    head = f"{pair.rows} x {pair.cols}: {ANOVA_TEST}, n = {anova.n} per-seed values"
    if anova.note:
        return f"{head}: {anova.note}."
    inter, residual = anova.interaction, anova.residual
    mains = [t for t in anova.terms if t.term in (pair.rows, pair.cols) and t.f is not None]
    main_text = "; ".join(f"{t.term} {_f(t, residual)}" for t in mains)
    if inter is None or inter.p is None:
        return f"{head}: main effects {main_text}; the interaction could not be estimated."
    if inter.p < ALPHA:
        verdict = (f"the interaction is significant ({_f(inter, residual)}): the effect of {pair.rows} "
                   f"depends on {pair.cols}")
    else:
        verdict = (f"no interaction detected ({_f(inter, residual)}): consistent with additive effects, "
                   f"which is not evidence that there is none")
    over = f"; averaged over {', '.join(pair.averaged_over)}" if pair.averaged_over else ""
    return f"{head}{over}: {verdict}; main effects {main_text} (p unadjusted)."


def _f(term, residual) -> str:
    df = f"{fmt.number(term.df)}, {fmt.number(residual.df)}" if residual is not None else fmt.number(term.df)
    return f"F({df}) = {fmt.number(term.f, 3)}, {p_text(term.p)}"


def p_text(p: float | None) -> str:
    """'p = 0.034' or 'p < 0.001'."""
    text = fmt.p_value(p)
    return f"p {text}" if text.startswith("<") else f"p = {text}"


def _numbers(labels: list[str]) -> list[float] | None:
    try:
        return [float(label) for label in labels]
    except ValueError:
        return None


def best_sentence(metric: MetricInfo, best: BestLevels) -> str | None:
    """'The best learning rate rises with the batch size: 0.01 at 16 (98.3%, ...), ...' (descriptive)."""
    if len(best.rows) < 2:
        return None
    rows = list(best.rows)
    given_numbers = _numbers([g for g, _, _ in rows])
    if given_numbers is not None:
        rows = [r for _, r in sorted(zip(given_numbers, rows, strict=True), key=lambda p: p[0])]
    chosen = [level for _, level, _ in rows]
    numbers = _numbers(chosen)
    name, given = f"the best {best.factor}", _the(best.given)
    if len(set(chosen)) == 1:
        trend = f"{_capital(name)} is {chosen[0]} at every {best.given}"
    elif numbers is not None and given_numbers is not None and all(
            x <= y for x, y in zip(numbers, numbers[1:], strict=False)):
        trend = f"{_capital(name)} rises with {given}"
    elif numbers is not None and given_numbers is not None and all(
            x >= y for x, y in zip(numbers, numbers[1:], strict=False)):
        trend = f"{_capital(name)} falls as {given} rises"
    else:
        trend = f"{_capital(name)} changes with {given}"
    parts = ", ".join(f"{level} at {given_level} ({fmt.value(metric, e.mean)}, {fmt.ci(metric, e)})"
                      for given_level, level, e in rows)
    n = min(e.n for _, _, e in rows)
    return (f"{trend}: {parts} (descriptive: the best cell mean of {metric.label} at each {best.given}, "
            f"n = {n} seeds per cell; overlapping intervals mean the order is not established).")


def _the(name: str) -> str:
    return name if name.startswith("the ") else f"the {name}"


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]
