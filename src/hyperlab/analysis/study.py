"""`analyze(frames)` for any study: the analysis its design registers in `ANALYSES` (a search
study's is hyperlab.analysis.search), else the ablation/grid analysis (hyperlab.analysis.analyze)."""

from __future__ import annotations

from collections.abc import Callable

from hyperlab.analysis.analyze import analyze as analyze_variants
from hyperlab.analysis.isolation import IsolationAnalysis, analyze_isolation
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.analysis.search import SearchAnalysis, analyze_search
from hyperlab.store.frames import StudyFrames

ANALYSES: dict[str, Callable[[StudyFrames], StudyAnalysis | SearchAnalysis | IsolationAnalysis]] = {
    "search": analyze_search,
    "isolation": analyze_isolation,
}
"""A design's analysis, where it is not the ablation/grid one (one line per design)."""


def analyze(frames: StudyFrames) -> StudyAnalysis | SearchAnalysis | IsolationAnalysis:
    """Compute every number the report shows from the store's tables (see docs/report.md)."""
    return ANALYSES.get(frames.study.get("design") or "", analyze_variants)(frames)


def is_search(design: str | None) -> bool:
    """Whether a design's trials are searched configurations (its analysis is a `SearchAnalysis`)."""
    return ANALYSES.get(design or "") is analyze_search
