"""`analyze(frames) -> StudyAnalysis`: diagnostics per trial, statistics per variant, tests vs baseline."""

from __future__ import annotations

import json
import math
from collections.abc import Iterable
from dataclasses import replace

import numpy as np
import pandas as pd

from hyperlab.analysis.diagnostics import (
    UNDETECTABLE,
    WITHIN_NOISE,
    TrialDiagnostics,
    diagnose_trial,
    with_noise_model,
)
from hyperlab.analysis.grid import grid_analysis, main_effects
from hyperlab.analysis.results import (
    Change,
    CostPoint,
    Curve,
    ExcludedTrial,
    FactorInfo,
    MetricInfo,
    PerClassEffects,
    StudyAnalysis,
    VariantInfo,
    VariantSummary,
)
from hyperlab.analysis.stats import (
    Estimate,
    PairedComparison,
    estimate,
    holm,
    paired_compare,
    pareto_front,
    with_holm,
)
from hyperlab.spec.paths import PathNotFound, get_path, parse_path
from hyperlab.spec.variants import label_of
from hyperlab.store.frames import StudyFrames

USABLE_STATUSES = ("completed", "early_stopped")
UNFINISHED_STATUSES = ("pending", "running", "interrupted", "claimed", "queued")
CURVE_METRICS = ("train_loss", "val_loss", "train_accuracy", "val_accuracy", "train_mse", "val_mse",
                 "val_mae", "val_r2", "lr")
DIAGNOSTIC_KEYS = ("best_val_accuracy", "best_val_loss", "best_epoch_accuracy", "best_epoch_loss",
                   "overfit_onset", "gap_at_best", "gap_at_last", "epochs_to_95", "seconds_to_95",
                   "epochs_to_baseline", "seconds_to_baseline", "tail_std", "loss_spikes",
                   "seconds_per_epoch", "train_seconds", "n_epochs", "train_drop")
ACCURACY_BOUNDS = (0.0, 1.0)
HOLM_EXTRA = "holm_extra"  # study key: family members tested elsewhere (a search's other configurations)
CLASSIFICATION = (MetricInfo("best_val_accuracy", "best validation accuracy", True, True),
                  MetricInfo("test_accuracy", "test accuracy", True, True))


def analyze(frames: StudyFrames) -> StudyAnalysis:
    """Compute every number the report shows from the store's tables (see docs/report.md)."""
    trials = frames.trials.copy()
    epochs, finals = frames.epochs, frames.finals
    task = _task(frames)
    primary, test_metric = CLASSIFICATION if task == "classification" else _regression_metrics(finals)
    variants = _variants(frames)
    grid = frames.study.get("design") in CROSSED_DESIGNS
    marked = next((v.name for v in variants if v.is_baseline), None)
    # A grid's reference is the cell equal to the study file's baseline, or none at all: its first cell
    # is just one combination, and comparing every cell with it answers no question the grid asks.
    baseline = marked if grid else (marked or (variants[0].name if variants else None))
    variants = _with_changes(variants, trials, baseline)
    warnings: list[str] = []
    if not grid and baseline is not None and marked is None:
        warnings.append(f"No variant is marked as the baseline: variants are compared with "
                        f"'{baseline}', the first one in the plan.")

    # Keyed by (trial, variant): a trial shared by two variants (a level equal to the baseline's value)
    # appears under both in the epochs frame.
    by_trial = dict(iter(epochs.groupby(["trial_key", "variant"], sort=False))) if len(epochs) else {}
    totals = {"val": _set_sizes(finals, by_trial, "val"), "test": _set_sizes(finals, by_trial, "test")}
    baseline_target = _baseline_target(trials, by_trial, baseline, task, totals["val"])
    diagnostics, excluded = _diagnose_all(trials, by_trial, task, baseline_target, totals["val"])
    usable = _noise_checked(tuple(d for d in diagnostics if not d.diverged), by_trial)
    excluded += tuple(
        ExcludedTrial(d.trial_key, d.variant, d.seed, d.status, "diverged (see docs/report.md)")
        for d in diagnostics if d.diverged
    )
    final_rows = _final_rows(finals, {(d.trial_key, d.variant) for d in usable})
    summaries = {
        v.name: _summarize(v.name, trials, usable, excluded, final_rows, totals) for v in variants
    }
    curves = {v.name: _curves(epochs, v.name, [d.trial_key for d in usable if d.variant == v.name])
              for v in variants}
    comparisons = _comparisons(variants, baseline, usable, final_rows, primary, test_metric, totals,
                               smallest_effect(frames.study), int(frames.study.get(HOLM_EXTRA) or 0))
    best_variant = _best_variant(summaries, primary)
    warnings += _warnings(frames.study, variants, excluded, summaries, trials)
    warnings += undertrained_baseline([d for d in usable if d.variant == baseline],
                                      _chance(final_rows, frames.study) if task == "classification" else None)
    return StudyAnalysis(
        study=dict(frames.study), task=task, primary=primary, test_metric=test_metric,
        baseline=baseline, best_variant=best_variant, variants=tuple(variants),
        factors=_factors(variants, frames.study.get("design")), trials=usable,
        excluded=tuple(excluded), summaries=summaries,
        curves=curves, comparisons=tuple(comparisons),
        per_class=_per_class(variants, baseline, final_rows, frames.study) if task == "classification"
        else None,
        totals={split: _common(sizes.values()) for split, sizes in totals.items()},
        confusion=_confusion(final_rows, [baseline, best_variant]) if task == "classification" else {},
        cost=tuple(_cost(variants, summaries, primary)),
        pareto=_pareto(variants, summaries, primary), warnings=tuple(warnings),
        main_effects=main_effects(variants, usable, primary) if grid else (),
        grid=grid_analysis(variants, usable, primary, _baseline_values(frames.study)) if grid else None,
        configs=_configs(trials, variants), diagnostics_keys=DIAGNOSTIC_KEYS,
    )


def _baseline_values(study: dict) -> dict[str, str]:
    """The study file's baseline value of each single-key factor, as a level label ("0.05", "32")."""
    spec = study.get("spec") if isinstance(study.get("spec"), dict) else {}
    out = {}
    for factor in spec.get("factor") or []:
        if isinstance(factor, dict) and factor.get("path") and factor.get("name"):
            try:
                out[str(factor["name"])] = label_of(get_path(spec, parse_path(str(factor["path"]))))
            except (PathNotFound, ValueError, TypeError):
                continue
    return out


# --- what kind of study -------------------------------------------------------------------------
CROSSED_DESIGNS = frozenset({"grid"})
"""Designs whose variants cross every factor's levels (one line per design): their cells name the
factors together ("lr x batch") and get main effects (hyperlab.analysis.grid)."""


def _task(frames: StudyFrames) -> str:
    declared = frames.study.get("task")
    if declared in ("classification", "regression"):
        return declared
    if "val_accuracy" in frames.epochs.columns:
        values = pd.to_numeric(frames.epochs["val_accuracy"], errors="coerce")
        if values.notna().any():
            return "classification"
    return "regression" if len(frames.epochs) else "classification"


def _regression_metrics(finals: pd.DataFrame) -> tuple[MetricInfo, MetricInfo]:
    test_key = "test_mse" if "test_mse" in finals.columns and _has_numbers(finals["test_mse"]) \
        else "test_loss"
    label = "test MSE" if test_key == "test_mse" else "test loss"
    return (MetricInfo("best_val_loss", "best validation loss", False, False),
            MetricInfo(test_key, label, False, False))


def _has_numbers(column: pd.Series) -> bool:
    return bool(pd.to_numeric(column, errors="coerce").notna().any())


# --- variants and factors -----------------------------------------------------------------------
def _text(value: object) -> str | None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return None
    return str(value)


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _variants(frames: StudyFrames) -> list[VariantInfo]:
    table = frames.variants
    if len(table) == 0:  # an older or partial store: derive the variants from the trials
        columns = ["variant", "factor", "level", "is_baseline"]
        table = frames.trials[columns].drop_duplicates("variant").assign(
            order=range(frames.trials["variant"].nunique()))
    table = table.sort_values("order", kind="stable") if "order" in table.columns else table
    out = []
    for i, row in enumerate(table.to_dict("records")):
        out.append(VariantInfo(
            name=str(row["variant"]), factor=_text(row.get("factor")), level=_text(row.get("level")),
            is_baseline=bool(row.get("is_baseline", False)), order=i,
            params=_number(row.get("params")), flops=_number(row.get("flops")),
            budget_ok=bool(row.get("budget_ok", True)) if row.get("budget_ok") is not None else True,
            budget_reason=_text(row.get("budget_reason")) or "",
        ))
    return out


def flatten_config(tree: object, prefix: str = "") -> dict[str, object]:
    """A nested config as {"train.optimizer.lr": 0.01, ...} (also used by the TensorBoard export)."""
    if not isinstance(tree, dict):
        return {prefix: tree}
    flat: dict[str, object] = {}
    for key, value in tree.items():
        flat.update(flatten_config(value, f"{prefix}.{key}" if prefix else str(key)))
    return flat


def _configs(trials: pd.DataFrame, variants: list[VariantInfo]) -> dict[str, dict]:
    """The resolved config of each variant (the same for all its seeds), from trials.config."""
    out = {}
    for v in variants:
        rows = trials[trials["variant"] == v.name] if "config" in trials.columns else trials.iloc[:0]
        try:
            out[v.name] = json.loads(rows["config"].iloc[0]) if len(rows) else None
        except (TypeError, ValueError):
            out[v.name] = None
    return {k: c for k, c in out.items() if isinstance(c, dict)}


def _config_of(trials: pd.DataFrame, variant: str) -> dict[str, object] | None:
    rows = trials[trials["variant"] == variant]
    if "config" not in rows.columns or len(rows) == 0:
        return None
    try:
        return flatten_config(json.loads(rows["config"].iloc[0]))
    except (TypeError, ValueError):
        return None


def _with_changes(variants: list[VariantInfo], trials: pd.DataFrame,
                  baseline: str | None) -> list[VariantInfo]:
    """Attach the config keys each variant changes relative to the baseline (from trials.config)."""
    base = _config_of(trials, baseline) if baseline else None
    if base is None:
        return variants
    out = []
    for v in variants:
        own = _config_of(trials, v.name)
        if own is None or v.name == baseline:
            out.append(v)
            continue
        changes = tuple(Change(k, base.get(k), own.get(k)) for k in sorted(set(base) | set(own))
                        if base.get(k) != own.get(k))
        out.append(VariantInfo(**{**v.__dict__, "changes": changes}))
    return out


def _factors(variants: list[VariantInfo], design: str | None) -> tuple[FactorInfo, ...]:
    """Ablation: one group per factor. Grid: the cells carry the factors' names joined; one group."""
    names: list[str] = []
    for v in variants:
        if not v.is_baseline and v.factor is not None and v.factor not in names:
            names.append(v.factor)
    factors = [FactorInfo(n.replace(", ", " x ") if design in CROSSED_DESIGNS else n,
                          tuple(v.name for v in variants if v.factor == n and not v.is_baseline))
               for n in names]
    loose = tuple(v.name for v in variants if not v.is_baseline and v.factor is None)
    if loose:  # e.g. a grid whose cells carry no single factor
        factors.append(FactorInfo("variants", loose))
    return tuple(factors)


# --- per trial ----------------------------------------------------------------------------------
def _set_sizes(finals: pd.DataFrame, by_trial: dict, split: str) -> dict[tuple[str, str], int]:
    """Examples in each trial's validation or test set: the epoch records' `val_total` when the engine
    wrote it, else the sum of the stored confusion matrix (accuracies are counts of this many)."""
    sizes: dict[tuple[str, str], int] = {}
    column = f"confusion_{split}"
    if len(finals) and column in finals.columns:
        for key, variant, matrix in zip(finals["trial_key"], finals["variant"], finals[column], strict=True):
            if isinstance(matrix, list | tuple) and len(matrix):
                total = int(np.asarray(matrix, dtype=np.int64).sum())
                if total > 0:
                    sizes[(str(key), str(variant))] = total
    if split == "val":
        for place, rows in by_trial.items():
            if "val_total" in rows.columns:
                recorded = pd.to_numeric(rows["val_total"], errors="coerce").dropna()
                if len(recorded):
                    sizes[place] = int(recorded.iloc[-1])
    return sizes


def _common(values: Iterable[int]) -> int | None:
    """The one set size all of `values` share, None when they differ or there are none."""
    distinct = set(values)
    return distinct.pop() if len(distinct) == 1 else None


def _shared_size(sizes: dict[tuple[str, str], int], places: list[tuple[str, str]]) -> int | None:
    """The set size every one of these trials (trial key, variant) was evaluated on, if known for all."""
    return _common(sizes[p] for p in places) if all(p in sizes for p in places) else None


def _baseline_target(trials: pd.DataFrame, by_trial: dict, baseline: str | None, task: str,
                     val_sizes: dict[tuple[str, str], int]) -> float | None:
    """The baseline's best validation accuracy, mean over its usable seeds (counts when known)."""
    if baseline is None or task != "classification":
        return None
    rows = trials[(trials["variant"] == baseline) & trials["status"].isin(USABLE_STATUSES)]
    places = [(str(k), baseline) for k in rows["trial_key"] if (k, baseline) in by_trial]
    bests = [pd.to_numeric(by_trial[p]["val_accuracy"], errors="coerce").max() for p in places]
    total = _shared_size(val_sizes, places)
    return estimate([float(b) for b in bests if pd.notna(b)], total=total).mean


def _diagnose_all(trials: pd.DataFrame, by_trial: dict, task: str, baseline_target: float | None,
                  val_sizes: dict[tuple[str, str], int],
                  ) -> tuple[list[TrialDiagnostics], tuple[ExcludedTrial, ...]]:
    diagnostics, excluded = [], []
    for row in trials.to_dict("records"):
        key, variant, status = str(row["trial_key"]), str(row["variant"]), str(row["status"])
        recorded = (key, variant) in by_trial
        if status not in USABLE_STATUSES or not recorded:
            reason = _exclusion_reason(status, _text(row.get("error")), recorded)
            excluded.append(ExcludedTrial(key, variant, int(row["seed"]), status, reason))
            continue
        diagnosed = diagnose_trial(
            key, variant, int(row["seed"]), status, by_trial[(key, variant)],
            classification=task == "classification", baseline_target=baseline_target,
            val_total=val_sizes.get((key, variant)))
        stored = _number(row.get("seconds"))
        if stored is not None and stored > 0:  # one trial time everywhere: the one the run printed and
            diagnosed = replace(diagnosed, train_seconds=stored)  # the store holds (docs/results.md)
        diagnostics.append(diagnosed)
    return diagnostics, tuple(excluded)



def _noise_checked(usable: tuple[TrialDiagnostics, ...], by_trial: dict) -> tuple[TrialDiagnostics, ...]:
    """Each overfitting onset held against the noise model (diagnostics.with_noise_model): the seed
    spread of its variant's validation loss at the onset epoch."""
    def spread(variant: str, epoch: int) -> float | None:
        losses = []
        for d in usable:
            if d.variant == variant:
                rows = by_trial[(d.trial_key, d.variant)]
                at = pd.to_numeric(rows.loc[rows["epoch"] == epoch, "val_loss"], errors="coerce").dropna()
                losses += [float(at.iloc[0])] if len(at) else []
        return float(np.std(losses, ddof=1)) if len(losses) >= 2 else None

    return tuple(with_noise_model(d, by_trial[(d.trial_key, d.variant)], spread(d.variant, d.overfit_onset))
                 if d.overfit_onset is not None else d for d in usable)


def _exclusion_reason(status: str, error: str | None, has_epochs: bool) -> str:
    if status == "failed":
        return f"failed: {error}" if error else "failed"
    if status == "diverged":
        return "diverged (the engine stopped it)"
    if status in UNFINISHED_STATUSES:
        return f"not finished ({status})"
    if not has_epochs:
        return "no epochs recorded"
    return status


def _final_rows(finals: pd.DataFrame, usable: set[tuple[str, str]]) -> pd.DataFrame:
    if len(finals) == 0:
        return finals
    keep = [(k, v) in usable for k, v in zip(finals["trial_key"], finals["variant"], strict=True)]
    return finals[keep]


# --- per variant --------------------------------------------------------------------------------
def _accuracy_split(metric: str) -> str | None:
    """'val' or 'test' for a metric that is an accuracy (a count of that set), else None."""
    if not metric.endswith("accuracy") or metric.startswith("train"):
        return None
    return "test" if "test" in metric else "val"


def _summarize(variant: str, trials: pd.DataFrame, usable: Iterable[TrialDiagnostics],
               excluded: Iterable[ExcludedTrial], final_rows: pd.DataFrame, totals: dict) -> VariantSummary:
    mine = [d for d in usable if d.variant == variant]
    out = [e for e in excluded if e.variant == variant]
    places = [(d.trial_key, d.variant) for d in mine]

    def summary(metric: str, values: list[float | None]) -> Estimate:
        split = _accuracy_split(metric)
        if split is None:
            return estimate(values)
        return estimate(values, total=_shared_size(totals[split], places), bounds=ACCURACY_BOUNDS)

    metrics = {key: summary(key, [_number(getattr(d, key)) for d in mine]) for key in DIAGNOSTIC_KEYS}
    rows = final_rows[final_rows["variant"] == variant] if len(final_rows) else final_rows
    for column in rows.columns:
        if column in ("trial_key", "variant", "seed") or column in metrics:
            continue
        values = [_number(v) for v in rows[column]]
        if any(v is not None for v in values):
            metrics[column] = summary(column, values)
    return VariantSummary(
        variant=variant, n_total=int((trials["variant"] == variant).sum()), n_used=len(mine),
        n_failed=sum(e.status == "failed" for e in out),
        n_diverged=sum(e.reason.startswith("diverged") for e in out),
        n_unfinished=sum(e.status in UNFINISHED_STATUSES for e in out),
        metrics=metrics, overfit_seeds=sum(d.overfit_onset is not None for d in mine),
        undetectable_seeds=sum(d.overfit_status == UNDETECTABLE for d in mine),
        noise_seeds=sum(d.overfit_status == WITHIN_NOISE for d in mine),
        collapsed_seeds=sum(d.collapsed for d in mine),
    )


def _curves(epochs: pd.DataFrame, variant: str, keys: list[str]) -> dict[str, Curve]:
    rows = epochs[epochs["trial_key"].isin(keys) & (epochs["variant"] == variant)] if len(epochs) \
        else epochs
    curves: dict[str, Curve] = {}
    for metric in CURVE_METRICS:
        if metric not in rows.columns or len(rows) == 0:
            continue
        table = rows.assign(value=pd.to_numeric(rows[metric], errors="coerce")).dropna(subset=["value"])
        if len(table) == 0:
            continue
        points = [(int(e), estimate(list(g["value"]))) for e, g in table.groupby("epoch")]
        curves[metric] = Curve(
            epochs=np.array([e for e, _ in points]),
            mean=np.array([p.mean for _, p in points], dtype=float),
            lo=np.array([np.nan if p.lo is None else p.lo for _, p in points], dtype=float),
            hi=np.array([np.nan if p.hi is None else p.hi for _, p in points], dtype=float),
            n=np.array([p.n for _, p in points]),
        )
    return curves


def _per_seed(variant: str, metric: str, usable: Iterable[TrialDiagnostics],
              final_rows: pd.DataFrame) -> dict[int, float | None]:
    if metric in DIAGNOSTIC_KEYS:
        return {d.seed: _number(getattr(d, metric)) for d in usable if d.variant == variant}
    if len(final_rows) == 0 or metric not in final_rows.columns:
        return {}
    rows = final_rows[final_rows["variant"] == variant]
    return {int(s): _number(v) for s, v in zip(rows["seed"], rows[metric], strict=True)}


def smallest_effect(study: dict) -> float | None:
    """The study file's `smallest_effect` (points for accuracies, the metric's unit otherwise), if any."""
    spec = study.get("spec")
    value = spec.get("smallest_effect") if isinstance(spec, dict) else None
    value = study.get("smallest_effect", value)
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _comparisons(variants, baseline, usable, final_rows, primary: MetricInfo, test_metric: MetricInfo,
                 totals: dict, effect: float | None = None, extra: int = 0):
    """Every variant against the baseline on both compared metrics: one pre-declared Holm family."""
    if baseline is None:
        return []
    found = []
    for info in (primary, test_metric):
        metric = info.key
        reference = _per_seed(baseline, metric, usable, final_rows)
        split = _accuracy_split(metric)
        margin = None if effect is None else effect / 100 if info.percent else effect
        for v in variants:
            if v.name != baseline and v.budget_ok:
                places = [(d.trial_key, d.variant) for d in usable if d.variant in (baseline, v.name)]
                total = _shared_size(totals[split], places) if split else None
                found.append(paired_compare(v.name, metric, reference,
                                            _per_seed(v.name, metric, usable, final_rows), total=total,
                                            margin=margin))
    return with_holm(found, extra=extra)


def _best_variant(summaries: dict[str, VariantSummary], primary: MetricInfo) -> str | None:
    scored = [(s.metrics[primary.key].mean, name) for name, s in summaries.items()
              if s.metrics[primary.key].mean is not None]
    if not scored:
        return None
    pick = max if primary.higher_is_better else min
    return pick(scored, key=lambda pair: pair[0])[1]


def _lists(rows: pd.DataFrame, column: str) -> dict[int, list]:
    if column not in rows.columns:
        return {}
    return {int(s): v for s, v in zip(rows["seed"], rows[column], strict=True) if isinstance(v, list | tuple)
            and len(v)}


def _per_class(variants, baseline, final_rows: pd.DataFrame, study: dict) -> PerClassEffects | None:
    if baseline is None or len(final_rows) == 0:
        return None
    base = _lists(final_rows[final_rows["variant"] == baseline], "per_class_test")
    if not base:
        return None
    n_classes = len(next(iter(base.values())))
    names = study.get("classes") or [str(i) for i in range(n_classes)]
    class_sizes = _class_sizes(final_rows, n_classes)
    effects: dict[str, tuple[Estimate, ...]] = {}
    tests: dict[str, list[PairedComparison]] = {}
    for v in variants:
        if v.name == baseline:
            continue
        own = _lists(final_rows[final_rows["variant"] == v.name], "per_class_test")
        seeds = sorted(set(own) & set(base))
        if seeds:
            tests[v.name] = [paired_compare(
                v.name, f"class {c}", {s: _number(base[s][c]) for s in seeds},
                {s: _number(own[s][c]) for s in seeds}, total=class_sizes[c]) for c in range(n_classes)]
            effects[v.name] = tuple(t.difference for t in tests[v.name])
    # One Holm family: every tested cell of the heatmap (a star is a test that survives it).
    cells = [(name, c) for name in tests for c in range(n_classes)]
    adjusted = holm([tests[name][c].p_value for name, c in cells])
    for (name, c), p in zip(cells, adjusted, strict=True):
        tests[name][c] = replace(tests[name][c], p_holm=p)
    return PerClassEffects(
        classes=tuple(str(n) for n in names[:n_classes]), variants=tuple(effects),
        effects=effects,
        baseline=tuple(estimate([_number(b[c]) for b in base.values()], total=class_sizes[c],
                                bounds=ACCURACY_BOUNDS) for c in range(n_classes)),
        tests={name: tuple(found) for name, found in tests.items()})


def _class_sizes(final_rows: pd.DataFrame, n_classes: int) -> list[int | None]:
    """Test examples of each class (the rows of the stored test confusion matrices, when they agree)."""
    sizes: list[set[int]] = [set() for _ in range(n_classes)]
    for matrix in _lists(final_rows, "confusion_test").values() if "confusion_test" in final_rows else []:
        rows = np.asarray(matrix, dtype=np.int64)
        if rows.shape == (n_classes, n_classes):
            for c in range(n_classes):
                sizes[c].add(int(rows[c].sum()))
    return [next(iter(s)) if len(s) == 1 and next(iter(s)) > 0 else None for s in sizes]


def _confusion(final_rows: pd.DataFrame, names: list[str | None]) -> dict[str, np.ndarray]:
    out: dict[str, np.ndarray] = {}
    for name in dict.fromkeys(n for n in names if n):
        matrices = _lists(final_rows[final_rows["variant"] == name], "confusion_test") \
            if len(final_rows) else {}
        if matrices:
            out[name] = np.sum([np.asarray(m, dtype=np.int64) for m in matrices.values()], axis=0)
    return out


# --- cost ---------------------------------------------------------------------------------------
def _cost(variants, summaries: dict[str, VariantSummary], metric: MetricInfo) -> list[CostPoint]:
    """Cost of each variant against the primary (validation) metric: variants are chosen on validation."""
    points = []
    for v in variants:
        metrics = summaries[v.name].metrics
        score = metrics.get(metric.key, Estimate(None, None, None, None, 0)).mean
        points.append(CostPoint(v.name, v.params, v.flops, metrics["seconds_per_epoch"].mean,
                                metrics["train_seconds"].mean, score))
    return points


def _pareto(variants, summaries, metric: MetricInfo) -> dict[str, tuple[str, ...]]:
    points = _cost(variants, summaries, metric)
    sign = 1.0 if metric.higher_is_better else -1.0
    fronts = {}
    for cost in ("params", "flops", "train_seconds"):  # time: a variant that trains longer costs more
        costs = [getattr(p, cost) for p in points]
        scores = [None if p.score is None else sign * p.score for p in points]
        fronts[cost] = tuple(points[i].variant for i in pareto_front(costs, scores))
    return fronts


# --- warnings -----------------------------------------------------------------------------------
CHANCE_MARGIN = 0.05  # a baseline this close to chance accuracy (5 points) has not learned the task


def _chance(final_rows: pd.DataFrame, study: dict) -> float | None:
    """Chance accuracy, 1 / classes (from the stored per-class accuracies, else the study's classes)."""
    lists = _lists(final_rows, "per_class_val") if len(final_rows) else {}
    classes = len(next(iter(lists.values()))) if lists else len(study.get("classes") or [])
    return 1.0 / classes if classes >= 2 else None


def undertrained_baseline(baseline: list[TrialDiagnostics], chance: float | None) -> list[str]:
    """Warnings when the reference itself is weak: its best validation accuracy within CHANCE_MARGIN
    of chance, or its validation loss still at its minimum at the last evaluated epoch on most seeds
    (it was still improving when training stopped): differences against it may then measure training
    length or a failure of the baseline rather than the factor."""
    found = []
    accuracies = [d.best_val_accuracy for d in baseline if d.best_val_accuracy is not None]
    if chance is not None and accuracies and float(np.mean(accuracies)) < chance + CHANCE_MARGIN:
        found.append(f"Undertrained baseline: its mean best validation accuracy "
                     f"({100 * float(np.mean(accuracies)):.1f}%, n = {len(accuracies)}) is within "
                     f"{100 * CHANCE_MARGIN:.0f} points of chance ({100 * chance:.1f}%): differences against "
                     f"it say little about the factors.")
    improving = [d for d in baseline if d.best_epoch_loss is not None and d.best_epoch_loss == d.last_epoch]
    if baseline and len(improving) * 2 > len(baseline):
        found.append(f"Undertrained baseline: its validation loss is lowest at its last epoch on "
                     f"{len(improving)} of {len(baseline)} seeds (still improving when training stopped): "
                     f"a variant that trains faster or longer can look better for that reason alone.")
    return found


def _warnings(study: dict, variants, excluded, summaries, trials: pd.DataFrame) -> list[str]:
    found = []
    if study.get("validation_is_test"):
        found.append("Validation is done on the test set (validation = \"test\"): choosing the best "
                     "epoch or variant on it biases the test numbers upward (selection bias).")
    counts = [s.n_used for s in summaries.values() if s.n_total]
    if counts and min(counts) < 3:
        found.append(f"Fewer than 3 usable seeds for some variants (minimum {min(counts)}): "
                     f"those comparisons say \"not enough seeds for a test\" instead of a verdict.")
    for status, label in (("failed", "failed"), ("diverged", "diverged")):
        bad = [e for e in excluded if (e.status == status if status == "failed"
                                       else e.reason.startswith("diverged"))]
        if bad:
            where = ", ".join(sorted({f"{e.variant} (seed {e.seed})" for e in bad}))
            found.append(f"{len(bad)} trial(s) {label} and are excluded from the means: {where}.")
    skipped = [v for v in variants if not v.budget_ok]
    if skipped:
        found.append("Variants skipped for budget (not trained): " + "; ".join(
            f"{v.name}" + (f" ({v.budget_reason})" if v.budget_reason else "") for v in skipped) + ".")
    found += numerics_warnings(trials)
    unfinished = [e for e in excluded if e.status in UNFINISHED_STATUSES]
    if study.get("running") or unfinished:
        done = int(trials["status"].isin(USABLE_STATUSES).sum()) if len(trials) else 0
        found.append(f"The study is still running: this report covers the {done} of {len(trials)} "
                     f"trials finished so far; numbers will change when the rest are done.")
    return found


def numerics_warnings(trials: pd.DataFrame) -> list[str]:
    """Trials resumed under other numerics, and trials that trained under different ones (device,
    dtype, torch, threads, deterministic: docs/performance.md, the numerics contract). Descriptive."""
    if "numerics" not in trials.columns or not len(trials):
        return []
    found = []
    changed = trials[trials["numerics_changed_at"].notna()]
    if len(changed):
        where = "; ".join(f"{r.variant} (seed {r.seed}) from epoch {int(r.numerics_changed_at)}"
                          for r in changed.itertuples(index=False))
        found.append(f"{len(changed)} trial(s) mixed numerics: resumed under other numerics than they "
                     f"started with (their numbers are not those of one uninterrupted run): {where}.")
    distinct = sorted({str(n) for n in trials.loc[trials["numerics_changed_at"].isna(), "numerics"] if n})
    if len(distinct) > 1:
        found.append(f"Trials trained under {len(distinct)} different numerics ({' | '.join(distinct)}): "
                     "differences between them include rounding, not only the hyperparameters.")
    return found
