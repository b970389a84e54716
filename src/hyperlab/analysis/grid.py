"""Grid designs: each cell sets one level of every factor; main effects average over the other factors.

The store names a grid cell "<f1>=<l1>, <f2>=<l2>" and gives the factor names joined by ", " in the
`factor` column. Level labels may themselves contain ", " (e.g. "[64, 64]"), so the variant name
is cut at the known factor names rather than split on commas.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from hyperlab.analysis.diagnostics import TrialDiagnostics
from hyperlab.analysis.results import MetricInfo, VariantInfo
from hyperlab.analysis.stats import Estimate, estimate


@dataclass(frozen=True)
class MainEffect:
    """One factor of a grid: its levels and the primary metric averaged over the other factors."""

    factor: str
    levels: tuple[str, ...]  # in plan order
    estimates: tuple[Estimate, ...]  # per level: mean over seeds of the per-seed average over cells


def cell_levels(variant: VariantInfo) -> dict[str, str] | None:
    """{factor name: level label} of a grid cell, or None when the name does not parse."""
    if variant.factor is None:
        return None
    names = variant.factor.split(", ")
    text = variant.name
    levels: dict[str, str] = {}
    for i, name in enumerate(names):
        prefix = f"{name}="
        if not text.startswith(prefix):
            return None
        text = text[len(prefix):]
        if i + 1 < len(names):
            cut = text.find(f", {names[i + 1]}=")
            if cut < 0:
                return None
            levels[name], text = text[:cut], text[cut + 2:]
        else:
            levels[name] = text
    return levels


def main_effects(variants: list[VariantInfo], trials: tuple[TrialDiagnostics, ...],
                 primary: MetricInfo) -> tuple[MainEffect, ...]:
    """Per factor and level: for each seed, the mean primary metric over the cells at that level;
    then the mean and t-interval of those per-seed means over seeds."""
    cells = {v.name: cell_levels(v) for v in variants if not v.is_baseline or v.factor is not None}
    cells = {name: levels for name, levels in cells.items() if levels}
    if not cells:
        return ()
    factor_names = next(iter(cells.values())).keys()
    effects = []
    for factor in factor_names:
        order = list(dict.fromkeys(levels[factor] for levels in cells.values()))
        per_level_seed: dict[str, dict[int, list[float]]] = {label: defaultdict(list) for label in order}
        for trial in trials:
            levels = cells.get(trial.variant)
            value = getattr(trial, primary.key)
            if levels is not None and value is not None:
                per_level_seed[levels[factor]][trial.seed].append(value)
        estimates = tuple(estimate([sum(v) / len(v) for v in per_level_seed[label].values()])
                          for label in order)
        effects.append(MainEffect(factor, tuple(order), estimates))
    return tuple(effects)


# --- the grid's own question: the metric over each pair of factors, their interaction ----------------
@dataclass(frozen=True)
class AnovaTerm:
    """One row of the ANOVA table: a main effect, the interaction, or the residual."""

    term: str  # "learning rate", "learning rate x batch size", "residual"
    sum_sq: float
    df: float
    f: float | None  # None for the residual
    p: float | None


@dataclass(frozen=True)
class Anova:
    """A two-way ANOVA with the interaction term on the per-seed values (statsmodels `ols` +
    `anova_lm`, type II sums of squares); any further factors enter as main effects only."""

    formula: str  # as fitted, with the factors' names
    terms: tuple[AnovaTerm, ...]
    n: int  # per-seed values fitted
    note: str = ""  # why there is no test (too few seeds, no variance), else ""

    @property
    def interaction(self) -> AnovaTerm | None:
        return next((t for t in self.terms if " x " in t.term and t.f is not None), None)

    @property
    def residual(self) -> AnovaTerm | None:
        return next((t for t in self.terms if t.term == "residual"), None)


@dataclass(frozen=True)
class BestLevels:
    """Descriptive: for each level of `given`, the level of `factor` with the best mean."""

    factor: str
    given: str
    rows: tuple[tuple[str, str, Estimate], ...]  # (level of `given`, best level of `factor`, its cell)


@dataclass(frozen=True)
class GridPair:
    """The primary metric over two factors: one cell per pair of levels (mean over seeds of the
    per-seed mean over the other factors' levels, if any), the ANOVA and the best levels."""

    rows: str  # factor on the heatmap's rows
    cols: str  # factor on its columns
    row_levels: tuple[str, ...]
    col_levels: tuple[str, ...]
    cells: tuple[tuple[Estimate, ...], ...]  # [row][col]
    averaged_over: tuple[str, ...]  # the other factors (empty for a two-factor grid)
    anova: Anova
    best_row_per_col: BestLevels  # best level of `rows` at each level of `cols`
    best_col_per_row: BestLevels


@dataclass(frozen=True)
class GridAnalysis:
    """What a grid study says about its factors: every pair's heatmap, ANOVA and best levels."""

    factors: tuple[str, ...]
    levels: dict[str, tuple[str, ...]]  # in plan order
    pairs: tuple[GridPair, ...]
    baseline_cell: str | None  # the cell equal to the study file's baseline, None when no cell is
    baseline_values: dict[str, str]  # the file's baseline value of each factor (for "not a cell")


def grid_analysis(variants: list[VariantInfo], trials: tuple[TrialDiagnostics, ...], primary: MetricInfo,
                  baseline_values: dict[str, str] | None = None) -> GridAnalysis | None:
    """Heatmap cells, two-way ANOVA with interaction and best levels for every pair of factors."""
    cells = {v.name: cell_levels(v) for v in variants if v.factor is not None and v.budget_ok}
    cells = {name: levels for name, levels in cells.items() if levels}
    if not cells:
        return None
    factors = tuple(next(iter(cells.values())).keys())
    levels = {f: tuple(dict.fromkeys(lv[f] for lv in cells.values())) for f in factors}
    rows = [{**cells[t.variant], "_seed": t.seed, "_value": float(getattr(t, primary.key))}
            for t in trials if t.variant in cells and getattr(t, primary.key) is not None]
    bounds = (0.0, 1.0) if primary.percent else None
    pairs = []
    for i, a in enumerate(factors):
        for b in factors[i + 1:]:
            pairs.append(_pair(a, b, factors, levels, rows, primary, bounds))
    baseline = next((v.name for v in variants if v.is_baseline and v.name in cells), None)
    return GridAnalysis(factors, levels, tuple(pairs), baseline, dict(baseline_values or {}))


def _pair(a: str, b: str, factors: tuple[str, ...], levels: dict[str, tuple[str, ...]], rows: list[dict],
          primary: MetricInfo, bounds: tuple[float, float] | None) -> GridPair:
    grid: list[tuple[Estimate, ...]] = []
    for la in levels[a]:
        line = []
        for lb in levels[b]:
            per_seed: dict[int, list[float]] = defaultdict(list)
            for r in rows:
                if r[a] == la and r[b] == lb:
                    per_seed[r["_seed"]].append(r["_value"])
            line.append(estimate([sum(v) / len(v) for v in per_seed.values()], bounds=bounds))
        grid.append(tuple(line))
    others = tuple(f for f in factors if f not in (a, b))
    return GridPair(a, b, levels[a], levels[b], tuple(grid), others, two_way_anova(rows, a, b, others),
                    _best(a, b, levels, grid, primary, by_row=False),
                    _best(b, a, levels, grid, primary, by_row=True))


def _best(factor: str, given: str, levels: dict[str, tuple[str, ...]], grid: list[tuple[Estimate, ...]],
          primary: MetricInfo, *, by_row: bool) -> BestLevels:
    """For each level of `given`, the level of `factor` whose cell has the best mean."""
    sign = 1.0 if primary.higher_is_better else -1.0
    found = []
    for j, lg in enumerate(levels[given]):
        line = grid[j] if by_row else tuple(row[j] for row in grid)
        scored = [(k, e) for k, e in enumerate(line) if e.mean is not None]
        if scored:
            k, e = max(scored, key=lambda ke: sign * ke[1].mean)
            found.append((lg, levels[factor][k], e))
    return BestLevels(factor, given, tuple(found))


def two_way_anova(rows: list[dict], a: str, b: str, others: tuple[str, ...] = ()) -> Anova:
    """value ~ C(a) * C(b) [+ C(other) ...], type II (statsmodels), on one value per trial."""
    import warnings

    import pandas as pd
    import statsmodels.formula.api as smf
    from statsmodels.stats.anova import anova_lm

    names = (a, b, *others)
    column = {name: f"f{i}" for i, name in enumerate(names)}
    formula = f"value ~ C({column[a]}) * C({column[b]})" + "".join(f" + C({column[o]})" for o in others)
    shown = f"{primary_term(a)} * {primary_term(b)}" + "".join(f" + {primary_term(o)}" for o in others)
    shown = f"value ~ {shown}"
    table = pd.DataFrame({"value": [r["_value"] for r in rows],
                          **{column[n]: [str(r[n]) for r in rows] for n in names}})
    n = len(table)
    cells = table.groupby([column[a], column[b]]).size()
    if n == 0:
        return Anova(shown, (), 0, "no finished trials")
    if (cells < 2).any() or len(cells) < len(table[column[a]].unique()) * len(table[column[b]].unique()):
        return Anova(shown, (), n, "not run: it needs at least 2 seeds in every cell of the pair "
                                   "(the interaction is estimated from the spread within cells)")
    if float(table["value"].std(ddof=0)) == 0.0:
        return Anova(shown, (), n, "not run: every value is the same")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # a perfect fit warns (divide by zero): reported as no test
        model = smf.ols(formula, data=table).fit()
        result = anova_lm(model, typ=2)
    back = {f"C({column[a]}):C({column[b]})": f"{a} x {b}",
            **{f"C({column[n]})": n for n in names}, "Residual": "residual"}
    terms = []
    for label, row in result.iterrows():
        f = _finite_or_none(row.get("F"))
        p = _finite_or_none(row.get("PR(>F)"))
        terms.append(AnovaTerm(back.get(str(label), str(label)), float(row["sum_sq"]), float(row["df"]),
                               None if label == "Residual" else f, None if label == "Residual" else p))
    residual = next(t for t in terms if t.term == "residual")
    note = "" if residual.sum_sq > 1e-12 * max(1.0, float((table["value"] ** 2).sum())) else \
        "not run: the cells' seeds agree exactly (no residual variance)"
    return Anova(shown, tuple(terms) if not note else (), n, note)


def primary_term(name: str) -> str:
    return f"C({name})"


def _finite_or_none(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if number == number and abs(number) != float("inf") else None
