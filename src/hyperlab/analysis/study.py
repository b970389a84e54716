"""`analyze(frames)` for any study: a search study's analysis (hyperlab.analysis.search), or the
ablation/grid analysis (hyperlab.analysis.analyze)."""

from __future__ import annotations

from hyperlab.analysis.analyze import analyze as analyze_variants
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.analysis.search import SearchAnalysis, analyze_search
from hyperlab.store.frames import StudyFrames


def analyze(frames: StudyFrames) -> StudyAnalysis | SearchAnalysis:
    """Compute every number the report shows from the store's tables (see docs/report.md)."""
    if frames.study.get("design") == "search":
        return analyze_search(frames)
    return analyze_variants(frames)
