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
