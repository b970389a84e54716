"""The report's section "The grid": per pair of factors, the heatmap, the ANOVA table and the best
levels (hyperlab.report.grid draws and words them)."""

from __future__ import annotations

from pathlib import Path

from hyperlab.analysis.grid import BestLevels, GridAnalysis, GridPair
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.report import figures as figs
from hyperlab.report import fmt
from hyperlab.report.document import Section, Table
from hyperlab.report.grid import ANOVA_TEST, heatmap_figure


def anova_table(pair: GridPair) -> Table:
    rows = [[t.term, fmt.number(t.sum_sq, 4), fmt.number(t.df), fmt.number(t.f, 3), fmt.p_value(t.p)]
            for t in pair.anova.terms]
    return Table(["term", "sum of squares", "df", "F", "p"], rows,
                 caption=f"{ANOVA_TEST}, fitted as {pair.anova.formula} on n = {pair.anova.n} per-seed "
                         f"values (one per trial); p-values unadjusted. The F-test assumes normal errors "
                         f"with the same spread in every cell: accuracies near 100% and collapsed seeds "
                         f"break that, so read p-values near 0.05 as approximate.")


def best_table(analysis: StudyAnalysis, best: BestLevels) -> Table:
    return Table([best.given, f"best {best.factor}", f"its mean {analysis.primary.label} (95% CI, n)"],
                 [[given, level, fmt.mean_ci_n(analysis.primary, e)] for given, level, e in best.rows],
                 caption=f"Descriptive (no test): the level of {best.factor} with the best cell mean at each "
                         f"level of {best.given}.")


def grid_section(analysis: StudyAnalysis, folder: Path) -> Section | None:
    """The section "The grid": sentences, then per pair the heatmap, the ANOVA and the best levels."""
    grid = analysis.grid
    if not isinstance(grid, GridAnalysis) or not grid.pairs:
        return None
    subsections = []
    for pair in grid.pairs:
        note = [f"ANOVA {pair.anova.note}."] if pair.anova.note else []
        tables = ([anova_table(pair)] if pair.anova.terms else []) + [
            best_table(analysis, pair.best_row_per_col), best_table(analysis, pair.best_col_per_row)]
        subsections.append(Section(f"{pair.rows} x {pair.cols}",
                                   f"grid-{figs.slug(pair.rows)}-x-{figs.slug(pair.cols)}",
                                   paragraphs=note, figures=[heatmap_figure(analysis, pair, folder)],
                                   tables=tables))
    return Section("The grid", "grid", paragraphs=[
        f"The grid's sentences in the Summary are worded from what follows: for each pair of factors, the "
        f"mean {analysis.primary.label} of every cell (heatmap), the {ANOVA_TEST} on the per-seed values, "
        f"and the best level of each factor at each level of the other."], subsections=subsections)


def grid_reading(analysis: StudyAnalysis, bullets: list[str]) -> list[str]:
    """The "How to read" bullets of a grid: what its ANOVA tests; without a baseline cell, the bullets
    about comparisons with a baseline go (there are none)."""
    if not isinstance(analysis.grid, GridAnalysis):
        return bullets
    first = (f"Grid: for each pair of factors, a {ANOVA_TEST} on the per-seed values of the "
             f"{analysis.primary.label} tests whether each factor matters and whether the effect of one "
             f"depends on the other (the interaction); it gives F, its degrees of freedom, p and n. The best "
             f"level of each factor at each level of the other is descriptive.")
    if analysis.baseline is None:
        bullets = [b for b in bullets if not b.startswith(("Tested:", "Holm family:"))]
        first += " No cell is the study file's baseline, so no cell is tested against a reference."
    return [first, *bullets]
