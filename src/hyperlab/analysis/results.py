"""The plain data `analyze` returns. Figures and text only render these; tests check them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperlab.analysis.diagnostics import TrialDiagnostics
from hyperlab.analysis.stats import Estimate, PairedComparison


@dataclass(frozen=True)
class MetricInfo:
    """How to read and show one metric."""

    key: str  # column / summary key, e.g. "best_val_accuracy"
    label: str  # e.g. "best validation accuracy"
    higher_is_better: bool
    percent: bool  # a fraction in [0, 1] shown as percent (differences in points)


@dataclass(frozen=True)
class Change:
    """One config key that differs from the baseline's (dotted path, baseline value, this value)."""

    key: str
    baseline: object
    value: object


@dataclass(frozen=True)
class VariantInfo:
    """One variant of the study as planned, with its cost and how it differs from the baseline."""

    name: str
    factor: str | None
    level: str | None
    is_baseline: bool
    order: int
    params: float | None
    flops: float | None
    budget_ok: bool
    budget_reason: str
    changes: tuple[Change, ...] = ()


@dataclass(frozen=True)
class ExcludedTrial:
    """A trial left out of the means: failed, diverged, or not finished yet."""

    trial_key: str
    variant: str
    seed: int
    status: str
    reason: str


@dataclass(frozen=True)
class Curve:
    """Per-epoch mean over seeds with a 95% t band (lo/hi NaN where fewer than 2 seeds reached it)."""

    epochs: np.ndarray
    mean: np.ndarray
    lo: np.ndarray
    hi: np.ndarray
    n: np.ndarray


@dataclass(frozen=True)
class VariantSummary:
    """Every final metric and diagnostic of one variant over its usable seeds."""

    variant: str
    n_total: int  # trials planned and present in the store
    n_used: int  # completed or early-stopped, not diverged: the trials the means cover
    n_failed: int
    n_diverged: int
    n_unfinished: int  # pending, running, interrupted
    metrics: dict[str, Estimate]
    overfit_seeds: int  # seeds whose curves show an overfitting onset
    undetectable_seeds: int = 0  # seeds where the onset rule cannot apply (minimum too near the end)
    collapsed_seeds: int = 0  # seeds whose training accuracy collapsed (not overfitting)
    noise_seeds: int = 0  # seeds whose onset the noise model rejected (gap grew less than the seed spread)


@dataclass(frozen=True)
class FactorInfo:
    """One factor: the variants that set its levels, in plan order."""

    name: str
    variants: tuple[str, ...]


@dataclass(frozen=True)
class PerClassEffects:
    """Per-class test accuracy change against the baseline (variant x class), paired by seed."""

    classes: tuple[str, ...]
    variants: tuple[str, ...]
    effects: dict[str, tuple[Estimate, ...]]  # variant -> one Estimate per class (points as fractions)
    baseline: tuple[Estimate, ...]  # the baseline's own per-class accuracy
    # variant -> one paired comparison per class, Holm-adjusted over every cell of the heatmap
    tests: dict[str, tuple[PairedComparison, ...]] = field(default_factory=dict)


@dataclass(frozen=True)
class CostPoint:
    """One variant on the cost/accuracy plane."""

    variant: str
    params: float | None
    flops: float | None
    seconds_per_epoch: float | None
    train_seconds: float | None  # mean training time of one trial (all its epochs)
    score: float | None  # the primary (validation) metric's mean: the Pareto front is chosen on it


@dataclass(frozen=True)
class StudyAnalysis:
    """Everything the report shows, computed from StudyFrames by `analyze`."""

    study: dict
    task: str  # "classification" | "regression"
    primary: MetricInfo  # what variants are ranked and tested on (selection metric, validation)
    test_metric: MetricInfo  # the held-out metric also compared
    baseline: str | None  # the reference variant of the paired tests
    best_variant: str | None  # best mean primary metric (chosen on validation, never on test)
    variants: tuple[VariantInfo, ...]
    factors: tuple[FactorInfo, ...]
    trials: tuple[TrialDiagnostics, ...]  # usable trials only
    excluded: tuple[ExcludedTrial, ...]
    summaries: dict[str, VariantSummary]
    curves: dict[str, dict[str, Curve]]  # variant -> epoch metric -> curve
    comparisons: tuple[PairedComparison, ...]  # primary and test metric, Holm-adjusted per metric
    per_class: PerClassEffects | None
    confusion: dict[str, np.ndarray]  # baseline and best variant: summed over seeds (test set)
    cost: tuple[CostPoint, ...]
    pareto: dict[str, tuple[str, ...]]  # cost name -> variants on the front, by increasing cost
    warnings: tuple[str, ...]
    main_effects: tuple = ()  # grid designs: hyperlab.analysis.grid.MainEffect per factor
    configs: dict[str, dict] = field(default_factory=dict)  # variant -> resolved config (trials.config)
    diagnostics_keys: tuple[str, ...] = field(default=())  # the per-variant keys in `metrics`
    totals: dict[str, int | None] = field(default_factory=dict)  # "val"/"test" -> examples, if known
    grid: object | None = None  # grid designs: hyperlab.analysis.grid.GridAnalysis (heatmaps, ANOVA)

    def variant(self, name: str) -> VariantInfo:
        return next(v for v in self.variants if v.name == name)

    def comparison(self, variant: str, metric: str) -> PairedComparison | None:
        return next((c for c in self.comparisons if c.variant == variant and c.metric == metric), None)
