"""`analyze_isolation(frames) -> IsolationAnalysis`: what an isolation study (design = "isolation")
found, computed from its tables.

- Per scientific level: the searched nuisance configurations (one seed each) with their objective
  on the search's validation split, the best one, a warning when its value of a range factor sits
  at an end of the range (the search may have stopped short of the optimum), and the expected best
  objective against the tuning budget (Dodge et al. 2019, "Show your work": the expected maximum of
  k draws, with replacement, from the empirical distribution of the level's searched values, for
  k = 1 .. the trials searched).
- The confirmation: each level's best setting ("re-tuned") and the baseline's nuisance values at
  that level ("fixed"), re-run with matched seeds, seed k on validation split data.split_seed + k
  (never the split the search selected on): mean and 95% interval per level, and every pair of
  levels compared seed by seed with hyperlab.analysis.stats.paired_compare (Holm over one family
  per kind: every pair on every metric), on the objective on those new splits and on the held-out test metric.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hyperlab.analysis.results import MetricInfo
from hyperlab.analysis.stats import Estimate, PairedComparison, estimate, paired_compare, with_holm
from hyperlab.engine import TrialConfig
from hyperlab.spec import StudySpec
from hyperlab.spec.isolation import isolation_space
from hyperlab.spec.study import Isolation
from hyperlab.store.frames import StudyFrames

RESULT_STATUSES = ("completed", "early_stopped")
EDGE = 0.05  # a best value within this share of its range (log scale for a log range) of an end: "at" it
RETUNED, FIXED = "re-tuned", "fixed"


@dataclass(frozen=True)
class SearchedPoint:
    """One searched nuisance configuration of one level."""

    number: int  # 1-based, in the order the level's sampler proposed it
    variant: str
    key: str
    status: str
    value: float | None  # the objective at the trial's end (search split)
    values: dict[str, Any]  # nuisance factor name -> number or choice label


@dataclass(frozen=True)
class NuisanceRange:
    """How a nuisance factor was searched: a range (low, high, log) or choices."""

    name: str
    kind: str  # "float" | "int" | "categorical"
    low: float | None
    high: float | None
    log: bool
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class LevelResult:
    """One scientific level: its search and its confirmation."""

    level: str
    searched: tuple[SearchedPoint, ...]
    best: SearchedPoint | None
    expected_best: tuple[float, ...]  # k = 1 .. n: expected best objective of k searched trials
    edges: tuple[str, ...]  # "widen the learning rate range at batch size=256: ..." warnings
    confirmed: dict[str, dict[str, dict[int, float | None]]]  # kind -> metric -> seed -> value
    estimates: dict[str, dict[str, Estimate]]  # kind -> metric -> mean and 95% interval over seeds


@dataclass(frozen=True)
class Contrast:
    """Two levels compared seed by seed on one metric, at fixed and at re-tuned nuisance values
    (difference = `other` - `reference`)."""

    reference: str
    other: str
    metric: str
    fixed: PairedComparison
    retuned: PairedComparison


@dataclass(frozen=True)
class IsolationAnalysis:
    """Everything the isolation report shows (plain data)."""

    study: dict
    scientific: str
    nuisance: tuple[NuisanceRange, ...]
    baseline_nuisance: dict[str, Any]  # each nuisance factor's baseline value ("fixed")
    objective: MetricInfo  # the search's objective, also measured on the confirmation's new splits
    test_metric: MetricInfo
    sampler: str
    trials_per_level: int
    search_seed: int
    confirm_seeds: tuple[int, ...]
    levels: tuple[LevelResult, ...]
    contrasts: tuple[Contrast, ...]
    warnings: tuple[str, ...]

    def level(self, label: str) -> LevelResult:
        return next(r for r in self.levels if r.level == label)


def analyze_isolation(frames: StudyFrames) -> IsolationAnalysis:
    """Analyse an isolation study's tables (see the module docstring)."""
    study = StudySpec.model_validate(frames.study["spec"])
    space, problems = isolation_space(study)
    if space is None:
        raise ValueError(f"the stored isolation study no longer validates: {problems}")
    iso = study.isolation or Isolation()
    seed = study.seed_list[0]
    seeds = tuple(seed + k for k in range(1, iso.confirm_seeds + 1))
    objective = _objective_info(iso)
    test_metric = _test_info(frames.finals)
    values = _trial_values(frames, iso.objective, test_metric.key)
    ranges = tuple(NuisanceRange(f.name, f.kind, f.low, f.high, f.log, tuple(f.labels))
                   for f in space.nuisance.factors)
    order = dict(zip(frames.variants["variant"], frames.variants["order"], strict=True)) \
        if len(frames.variants) else {}
    levels = []
    for level in space.levels:
        prefix = f"{space.scientific}={level.label}"
        searched = _searched(frames, f"{prefix}: ", seed, order, values, space.level_space(level),
                             iso.objective)
        scored = [p for p in searched if p.value is not None]
        sign = 1.0 if iso.maximize else -1.0
        best = max(scored, key=lambda p: (sign * p.value, -p.number)) if scored else None
        confirmed = {kind: _confirmed(frames, f"{prefix} ({kind})", seeds, values, (objective, test_metric))
                     for kind in (RETUNED, FIXED)}
        bounds = (0.0, 1.0) if objective.percent else None
        estimates = {kind: {m: estimate(list(per_seed.values()), bounds=bounds if m == objective.key else
                                        ((0.0, 1.0) if test_metric.percent else None))
                            for m, per_seed in by_metric.items()} for kind, by_metric in confirmed.items()}
        levels.append(LevelResult(level.label, tuple(searched), best,
                                  expected_best([p.value for p in scored], maximize=iso.maximize),
                                  tuple(edge_warnings(space.scientific, level.label, best, ranges)),
                                  confirmed, estimates))
    contrasts = _contrasts(levels, (objective, test_metric), space.scientific)
    warnings = [w for r in levels for w in r.edges]
    if study.data.validation == "test":
        warnings.append("Validation is the test split: the search selected on the data the confirmation "
                        "tests on, so the re-tuned results are optimistic.")
    return IsolationAnalysis(
        study=dict(frames.study), scientific=space.scientific, nuisance=ranges,
        baseline_nuisance=space.baseline_values(), objective=objective, test_metric=test_metric,
        sampler=iso.sampler, trials_per_level=iso.trials_per_level, search_seed=seed, confirm_seeds=seeds,
        levels=tuple(levels), contrasts=tuple(contrasts), warnings=tuple(warnings))


def _objective_info(iso: Isolation) -> MetricInfo:
    label = iso.objective.replace("val_", "validation ").replace("_", " ")
    return MetricInfo(iso.objective, label, iso.maximize, iso.objective == "val_accuracy")


def _test_info(finals: pd.DataFrame) -> MetricInfo:
    for key, label, higher, percent in (("test_accuracy", "test accuracy", True, True),
                                        ("test_mse", "test MSE", False, False)):
        if key in finals.columns and pd.to_numeric(finals[key], errors="coerce").notna().any():
            return MetricInfo(key, label, higher, percent)
    return MetricInfo("test_loss", "test loss", False, False)


def _finite(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _trial_values(frames: StudyFrames, objective: str, test_key: str) -> dict[str, dict[str, float | None]]:
    """trial key -> {objective: its value at the trial's end, test metric: its final value}."""
    out: dict[str, dict[str, float | None]] = {}
    finals = frames.finals.drop_duplicates("trial_key").set_index("trial_key") \
        if len(frames.finals) else None
    epochs = frames.epochs
    last = epochs.sort_values("epoch").drop_duplicates("trial_key", keep="last").set_index("trial_key") \
        if len(epochs) and objective in epochs.columns else None
    for key, status in zip(frames.trials["trial_key"], frames.trials["status"], strict=True):
        if status not in RESULT_STATUSES:
            out[str(key)] = {objective: None, test_key: None}
            continue
        final = finals.loc[key] if finals is not None and key in finals.index else None
        value = _finite(final.get(objective)) if final is not None else None
        if value is None and last is not None and key in last.index:
            value = _finite(last.loc[key, objective])
        test = _finite(final.get(test_key)) if final is not None else None
        out[str(key)] = {objective: value, test_key: test}
    return out


def _searched(frames: StudyFrames, prefix: str, seed: int, order: dict, values: dict, space,
              objective: str) -> list[SearchedPoint]:
    trials = frames.trials
    rows = trials[(trials["seed"] == seed) & trials["variant"].astype(str).str.startswith(prefix)]
    rows = rows.assign(_order=rows["variant"].map(order)).sort_values("_order", kind="stable")
    rows = rows.drop_duplicates("trial_key")
    out = []
    for number, row in enumerate(rows.itertuples(index=False), start=1):
        config = TrialConfig.from_stored(row.config)
        value = values.get(str(row.trial_key), {}).get(objective)
        out.append(SearchedPoint(number, str(row.variant), str(row.trial_key), str(row.status), value,
                                 space.values_of(config)))
    return out


def _confirmed(frames: StudyFrames, variant: str, seeds: tuple[int, ...], values: dict,
               metrics: tuple[MetricInfo, ...]) -> dict[str, dict[int, float | None]]:
    trials = frames.trials
    rows = trials[(trials["variant"] == variant) & trials["seed"].isin(seeds)]
    pairs = list(zip(rows["seed"], rows["trial_key"], strict=True))
    return {m.key: {int(s): values.get(str(k), {}).get(m.key) for s, k in pairs} for m in metrics}


def _contrasts(levels: list[LevelResult], metrics: tuple[MetricInfo, ...],
               scientific: str) -> list[Contrast]:
    """Every pair of levels, on each metric, fixed and re-tuned; one Holm family per kind."""
    pairs = [(a, b) for i, a in enumerate(levels) for b in levels[i + 1:]]
    fixed, retuned = [], []
    for a, b in pairs:
        name = f"{scientific}={b.level} vs {a.level}"
        for m in metrics:
            fixed.append(paired_compare(name, m.key, a.confirmed[FIXED][m.key], b.confirmed[FIXED][m.key]))
            retuned.append(paired_compare(name, m.key, a.confirmed[RETUNED][m.key],
                                          b.confirmed[RETUNED][m.key]))
    fixed, retuned = with_holm(fixed), with_holm(retuned)
    out = []
    i = 0
    for a, b in pairs:
        for m in metrics:
            out.append(Contrast(a.level, b.level, m.key, fixed[i], retuned[i]))
            i += 1
    return out


def expected_best(values: list[float], *, maximize: bool = True) -> tuple[float, ...]:
    """Dodge et al. (2019): the expected best of k trials drawn with replacement from the searched
    trials' values, k = 1 .. n: sum_i v_(i) * ((i/n)^k - ((i-1)/n)^k) over the values sorted from
    worst to best."""
    if not values:
        return ()
    ordered = np.sort(np.asarray(values, dtype=float))
    if not maximize:
        ordered = ordered[::-1]  # worst (largest) first: the "maximum" is then the smallest value
    n = len(ordered)
    ranks = np.arange(1, n + 1) / n
    below = np.arange(0, n) / n
    return tuple(float(np.sum(ordered * (ranks ** k - below ** k))) for k in range(1, n + 1))


def edge_warnings(scientific: str, level: str, best: SearchedPoint | None,
                  ranges: tuple[NuisanceRange, ...]) -> list[str]:
    """A warning per range factor whose best value is within EDGE of an end of its range."""
    if best is None:
        return []
    found = []
    for r in ranges:
        value = best.values.get(r.name)
        if r.kind == "categorical" or r.low is None or r.high is None or not isinstance(value, int | float):
            continue
        to = (lambda x: math.log(x)) if r.log else (lambda x: x)
        share = (to(value) - to(r.low)) / (to(r.high) - to(r.low))
        for end, name, near in (("upper", r.high, share >= 1 - EDGE), ("lower", r.low, share <= EDGE)):
            if near:
                found.append(f"widen the {r.name} range at {scientific}={level}: the best ({value:.4g}) is "
                             f"at the {end} bound ({name:.4g}) of the searched range, so a better setting "
                             f"may lie beyond it")
    return found


__all__ = ["Contrast", "IsolationAnalysis", "LevelResult", "NuisanceRange", "SearchedPoint",
           "analyze_isolation", "edge_warnings", "expected_best"]
