"""Report: figures, one self-contained HTML page and a Markdown file, with findings written from numbers.

`write_report(analysis, out_dir)` renders a `hyperlab.analysis.StudyAnalysis` (what `hyperlab report`
and `hyperlab run` call); `hyperlab.report.tensorboard.export_tensorboard` backs `hyperlab export`.
"""

from hyperlab.report.dispatch import write_report  # the search report, or the ablation/grid one
from hyperlab.report.findings import FactorFinding, Findings, write_findings

__all__ = ["write_report", "write_findings", "Findings", "FactorFinding"]
