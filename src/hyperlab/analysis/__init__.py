"""Analysis: learning-curve diagnostics, statistics over seeds, paired tests against the baseline.

`analyze(frames)` turns a study's tables (`hyperlab.store.frames.StudyFrames`) into a
`StudyAnalysis` of plain data; `hyperlab.report` renders it. Definitions: docs/report.md.
"""

from hyperlab.analysis.diagnostics import TrialDiagnostics, diagnose_trial, overfit_onset
from hyperlab.analysis.grid import MainEffect, cell_levels
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
from hyperlab.analysis.search import SearchAnalysis, analyze_search
from hyperlab.analysis.stats import Estimate, PairedComparison, cohen_dz, estimate, holm, paired_compare
from hyperlab.analysis.study import analyze  # a search study's analysis, or the ablation/grid one

__all__ = [
    "analyze", "StudyAnalysis", "TrialDiagnostics", "diagnose_trial", "overfit_onset",
    "Change", "CostPoint", "Curve", "ExcludedTrial", "FactorInfo", "MetricInfo", "PerClassEffects",
    "VariantInfo", "VariantSummary", "Estimate", "PairedComparison", "cohen_dz", "estimate", "holm",
    "paired_compare", "MainEffect", "cell_levels", "SearchAnalysis", "analyze_search",
]
