"""`write_report(analysis, out_dir)` for any study: the search report for a `SearchAnalysis`
(hyperlab.report.search), the ablation/grid report otherwise (hyperlab.report.write)."""

from __future__ import annotations

from pathlib import Path

from hyperlab.analysis.isolation import IsolationAnalysis
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.analysis.search import SearchAnalysis
from hyperlab.report.isolation import write_isolation_report
from hyperlab.report.search import write_search_report
from hyperlab.report.write import write_report as write_variants_report


def write_report(analysis: StudyAnalysis | SearchAnalysis | IsolationAnalysis, out_dir: Path | str, *,
                 artifacts_dir: Path | str | None = None) -> Path:
    """Render the analysis into `out_dir` and return index.html's path (see hyperlab.report.write)."""
    if isinstance(analysis, IsolationAnalysis):
        return write_isolation_report(analysis, out_dir, artifacts_dir=artifacts_dir)
    if isinstance(analysis, SearchAnalysis):
        return write_search_report(analysis, out_dir, artifacts_dir=artifacts_dir)
    return write_variants_report(analysis, out_dir, artifacts_dir=artifacts_dir)
