"""Compare two studies: the variants they share, study B minus study A on one final metric.

Variants are matched by name first (both studies have `baseline`, `dropout=0.2`, ...), then by an
identical trial config. A matched pair is compared

- **paired** (the exact sign-flip permutation test on the per-seed differences, as in a study's own
  comparisons: hyperlab.analysis.stats.paired_compare) when at least `MIN_SEEDS_FOR_TEST` seeds
  finished in both: the same seed means the same initial weights and data order, so the seed-to-seed
  noise cancels;
- **unpaired** (Welch's t-test, unequal variances, with its 95% interval) otherwise.

p-values are Holm-adjusted across the matched variants. Which test was used is part of every row.
Definitions: docs/serve.md ("Comparing two studies").
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy import stats as scipy_stats

from hyperlab.analysis.analyze import USABLE_STATUSES, flatten_config
from hyperlab.analysis.results import Change, MetricInfo
from hyperlab.analysis.stats import (
    CONFIDENCE,
    MIN_SEEDS_FOR_TEST,
    TEST_NAME,
    Estimate,
    estimate,
    holm,
    paired_compare,
)
from hyperlab.errors import UserError
from hyperlab.store.frames import StudyFrames

PAIRED_TEST = TEST_NAME  # the paired comparison of hyperlab.analysis.stats
WELCH_TEST = "Welch t-test"
METRICS = {
    "test_accuracy": MetricInfo("test_accuracy", "test accuracy", True, True),
    "best_test_accuracy": MetricInfo("best_test_accuracy", "test accuracy at the best epoch", True, True),
    "val_accuracy": MetricInfo("val_accuracy", "final validation accuracy", True, True),
    "test_loss": MetricInfo("test_loss", "test loss", False, False),
    "val_loss": MetricInfo("val_loss", "final validation loss", False, False),
    "test_mse": MetricInfo("test_mse", "test MSE", False, False),
    "test_mae": MetricInfo("test_mae", "test MAE", False, False),
    "test_r2": MetricInfo("test_r2", "test R²", True, False),
}
DEFAULT_METRICS = ("test_accuracy", "test_mse", "test_loss")


@dataclass(frozen=True)
class MatchedVariant:
    """One variant present in both studies, compared on the study's metric (difference = B - A)."""

    variant_a: str
    variant_b: str
    matched_by: str  # "name" or "config"
    config_differences: tuple[Change, ...]  # keys whose value differs (baseline = A's, value = B's)
    same_trials: bool  # identical trial keys: the two studies share these very trials
    pairing: str  # "paired" or "unpaired"
    seeds: tuple[int, ...]  # paired: the seeds finished in both; unpaired: empty
    a: Estimate  # the metric over A's finished seeds
    b: Estimate
    difference: Estimate  # B - A with its 95% interval (paired: t-interval of the differences)
    test: str  # PAIRED_TEST, WELCH_TEST, or "" when no test could run
    statistic: float | None
    p_value: float | None
    p_holm: float | None
    note: str  # why there is no test, or ""
    # "" when both sides trained under the same numerics (docs/performance.md), else what each did
    numerics_differ: str = ""

    @property
    def n(self) -> int:
        """Paired: the number of pairs; unpaired: the trials in both groups."""
        return len(self.seeds) if self.pairing == "paired" else self.a.n + self.b.n


@dataclass(frozen=True)
class StudyComparison:
    study_a: str
    study_b: str
    metric: MetricInfo
    rows: tuple[MatchedVariant, ...]
    only_a: tuple[str, ...]  # variants of A with no counterpart in B
    only_b: tuple[str, ...]


def compare_studies(a: StudyFrames, b: StudyFrames, metric: str | None = None) -> StudyComparison:
    """Match the variants of two studies and compare each pair on `metric` (default: test accuracy
    for classification, test MSE or loss otherwise)."""
    info = _metric(a, b, metric)
    configs_a, configs_b = _variant_configs(a), _variant_configs(b)
    pairs: list[tuple[str, str, str]] = []
    unmatched_b = [v for v in configs_b if v not in configs_a]
    only_a = []
    for name in configs_a:
        if name in configs_b:
            pairs.append((name, name, "name"))
            continue
        same = next((v for v in unmatched_b if configs_b[v] == configs_a[name]), None)
        if same is None:
            only_a.append(name)
        else:
            unmatched_b.remove(same)
            pairs.append((name, same, "config"))
    matched_b = {p[1] for p in pairs}
    only_b = tuple(v for v in configs_b if v not in matched_b)

    values_a, values_b = _per_seed(a, info.key), _per_seed(b, info.key)
    keys_a, keys_b = _trial_keys(a), _trial_keys(b)
    # The very same trials only when the keys match *and* so do the numbers: two workspaces can hold
    # one key with different results (trained on other hardware or code), and then they are compared.
    rows = [
        _compare_pair(va, vb, how, configs_a[va], configs_b[vb], values_a.get(va, {}), values_b.get(vb, {}),
                      keys_a.get(va, set()) == keys_b.get(vb, set()) and bool(keys_a.get(va))
                      and values_a.get(va, {}) == values_b.get(vb, {}))
        for va, vb, how in pairs
    ]
    adjusted = holm([r.p_value for r in rows])
    rows = [_with_p_holm(r, p) for r, p in zip(rows, adjusted, strict=True)]
    numerics_a, numerics_b = _numerics(a), _numerics(b)
    rows = [_with_numerics(r, numerics_a.get(r.variant_a, set()), numerics_b.get(r.variant_b, set()))
            for r in rows]
    return StudyComparison(study_a=str(a.study.get("name", "A")), study_b=str(b.study.get("name", "B")),
                           metric=info, rows=tuple(rows), only_a=tuple(only_a), only_b=only_b)


def _compare_pair(va: str, vb: str, how: str, config_a: str, config_b: str, seeds_a: dict[int, float],
                  seeds_b: dict[int, float], same_trials: bool) -> MatchedVariant:
    differences = _config_differences(config_a, config_b)
    est_a, est_b = estimate(list(seeds_a.values())), estimate(list(seeds_b.values()))
    common = sorted(set(seeds_a) & set(seeds_b))
    base = {"variant_a": va, "variant_b": vb, "matched_by": how, "config_differences": differences,
            "same_trials": same_trials, "a": est_a, "b": est_b, "p_holm": None}
    if same_trials:
        return MatchedVariant(**base, pairing="paired", seeds=tuple(common), difference=estimate([0.0] * len(
            common)), test="", statistic=None, p_value=None,
            note="the same trials in both studies (identical configs and seeds): nothing to test")
    if len(common) >= MIN_SEEDS_FOR_TEST:
        paired = paired_compare(vb, "", {s: seeds_a[s] for s in common}, {s: seeds_b[s] for s in common})
        return MatchedVariant(**base, pairing="paired", seeds=paired.seeds, difference=paired.difference,
                              test=PAIRED_TEST if paired.testable else "", statistic=paired.statistic,
                              p_value=paired.p_value, note=paired.note)
    return _welch(base, list(seeds_a.values()), list(seeds_b.values()), len(common))


def _welch(base: dict, a: list[float], b: list[float], n_common: int) -> MatchedVariant:
    why_unpaired = (f"unpaired: {n_common} seeds finished in both, a paired test needs "
                    f"{MIN_SEEDS_FOR_TEST}")
    mean = None if not a or not b else float(np.mean(b) - np.mean(a))
    if len(a) < 2 or len(b) < 2:
        return MatchedVariant(**base, pairing="unpaired", seeds=(), difference=Estimate(
            mean, None, None, None, len(a) + len(b)), test="", statistic=None, p_value=None,
            note=f"{why_unpaired}; Welch's test needs 2 finished seeds per study ({len(a)} and {len(b)})")
    if float(np.std(a)) == 0.0 and float(np.std(b)) == 0.0:
        return MatchedVariant(**base, pairing="unpaired", seeds=(), difference=Estimate(
            mean, None, mean, mean, len(a) + len(b)), test="", statistic=None, p_value=None,
            note=f"{why_unpaired}; no variance in either study, no test")
    result = scipy_stats.ttest_ind(b, a, equal_var=False)
    interval = result.confidence_interval(CONFIDENCE)
    return MatchedVariant(**base, pairing="unpaired", seeds=(), difference=Estimate(
        mean, None, float(interval.low), float(interval.high), len(a) + len(b)), test=WELCH_TEST,
        statistic=float(result.statistic), p_value=float(result.pvalue), note=why_unpaired)


def _with_p_holm(row: MatchedVariant, p: float | None) -> MatchedVariant:
    return replace(row, p_holm=p)


def _metric(a: StudyFrames, b: StudyFrames, metric: str | None) -> MetricInfo:
    available = [m for m in METRICS if m in a.finals.columns and m in b.finals.columns]
    if metric is None:
        chosen = next((m for m in DEFAULT_METRICS if m in available), None)
        if chosen is None:
            raise UserError("compare: the two studies have no finished trials with a test metric in "
                            "common (train them first: `hyperlab run STUDY`)")
        return METRICS[chosen]
    if metric not in available:
        allowed = ", ".join(available) or "none (no finished trials)"
        raise UserError(f"compare: --metric: must be one of {allowed}, got {metric!r}")
    return METRICS[metric]


def _variant_configs(frames: StudyFrames) -> dict[str, str]:
    """Each variant's trial config as canonical JSON (the seed is not part of it), in plan order."""
    out: dict[str, str] = {}
    for variant, config in zip(frames.trials["variant"], frames.trials["config"], strict=True):
        if variant not in out:
            out[str(variant)] = _canonical(config)
    order = {v: i for i, v in enumerate(frames.variants["variant"])} if len(frames.variants) else {}
    return dict(sorted(out.items(), key=lambda kv: order.get(kv[0], len(order))))


def _canonical(config: object) -> str:
    try:
        return json.dumps(json.loads(config) if isinstance(config, str) else config, sort_keys=True)
    except (TypeError, ValueError):
        return str(config)


def _config_differences(config_a: str, config_b: str) -> tuple[Change, ...]:
    flat_a, flat_b = flatten_config(json.loads(config_a)), flatten_config(json.loads(config_b))
    keys = sorted(set(flat_a) | set(flat_b))
    return tuple(Change(k, flat_a.get(k), flat_b.get(k)) for k in keys
                 if json.dumps(flat_a.get(k), sort_keys=True) != json.dumps(flat_b.get(k), sort_keys=True))


def _per_seed(frames: StudyFrames, metric: str) -> dict[str, dict[int, float]]:
    """{variant: {seed: value}} over finished (completed or early-stopped) trials with a finite value."""
    finished = frames.trials[frames.trials["status"].isin(USABLE_STATUSES)]
    usable = set(zip(finished["trial_key"], finished["variant"], strict=True))
    out: dict[str, dict[int, float]] = {}
    finals = frames.finals
    if len(finals) == 0 or metric not in finals.columns:
        return out
    for key, variant, seed, value in zip(finals["trial_key"], finals["variant"], finals["seed"],
                                         pd.to_numeric(finals[metric], errors="coerce"), strict=True):
        if (key, variant) in usable and value is not None and math.isfinite(value):
            out.setdefault(str(variant), {})[int(seed)] = float(value)
    return out


def _numerics(frames: StudyFrames) -> dict[str, set[str]]:
    """Per variant, the numerics its trials trained under (empty: unknown, stored before schema 4)."""
    out: dict[str, set[str]] = {}
    if "numerics" not in frames.trials.columns:
        return out
    for text, variant in zip(frames.trials["numerics"], frames.trials["variant"], strict=True):
        if isinstance(text, str) and text:
            out.setdefault(str(variant), set()).add(text)
    return out


def _with_numerics(row: MatchedVariant, a: set[str], b: set[str]) -> MatchedVariant:
    if not a or not b or a == b:
        return row
    return replace(row, numerics_differ=f"A: {' | '.join(sorted(a))}; B: {' | '.join(sorted(b))}")


def _trial_keys(frames: StudyFrames) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for key, variant in zip(frames.trials["trial_key"], frames.trials["variant"], strict=True):
        out.setdefault(str(variant), set()).add(str(key))
    return out
