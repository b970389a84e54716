"""`write_report(analysis, out_dir) -> Path`: figures, one self-contained index.html, report.md."""

from __future__ import annotations

import base64
import os
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import jinja2

from hyperlab._version import __version__
from hyperlab.analysis.results import FactorInfo, StudyAnalysis
from hyperlab.report import document as doc
from hyperlab.report import figures as figs
from hyperlab.report.findings import write_findings
from hyperlab.report.grid_section import grid_reading, grid_section
from hyperlab.report.model_views import model_view


def write_report(analysis: StudyAnalysis, out_dir: Path | str, *,
                 artifacts_dir: Path | str | None = None) -> Path:
    """Render the analysis into `out_dir` (index.html, report.md, figures/) and return index.html's path.

    artifacts_dir: the workspace's `artifacts/` folder, for figures that need trained weights. When
    not given and `out_dir` is `<workspace>/reports/<study>`, `<workspace>/artifacts` is used.
    """
    started = time.perf_counter()
    info = _data_info(analysis)
    analysis = _with_class_names(analysis, info)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "figures"
    findings = write_findings(analysis)
    factors = [f for f in analysis.factors if any(analysis.curves.get(n) for n in f.variants)]
    if not analysis.factors and analysis.baseline and analysis.curves.get(analysis.baseline):
        # a baseline-only study (e.g. one model, several seeds): its own curves stand in for the factors'
        factors = [FactorInfo("baseline", ())]
    jobs: list[figs.Job] = [(figs.curves_figure, (analysis, f, folder)) for f in factors]
    jobs += [(figure, (analysis, folder)) for figure in (figs.ranking_figure, figs.per_class_figure,
                                                        figs.confusion_figure, figs.cost_figure)]
    jobs.append((model_view, (analysis, folder, _artifacts(out, artifacts_dir))))
    *curves, ranking, per_class, confusion, cost, view = figs.render(jobs)
    curve_figures = dict(zip([f.name for f in factors], curves, strict=True)) if analysis.factors else {}
    baseline_curves = None if analysis.factors or not curves else curves[0]

    document = _document(analysis, findings, curve_figures, ranking, per_class, confusion, cost, view, info,
                         baseline_curves, folder)
    elapsed = time.perf_counter() - started
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    document.meta.append(f"Generated {generated} by hyperlab {__version__} in {elapsed:.1f} s.")
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("hyperlab.report", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True,
    )
    html = environment.get_template("report.html.j2").render(
        doc=document, embed=_embed, css=environment.loader.get_source(environment, "report.css")[0])
    markdown = environment.get_template("report.md.j2").render(doc=document, md=_md_cell, rel=_relative)
    _write_atomic(out / "report.md", markdown)
    index = out / "index.html"
    _write_atomic(index, html)
    return index


def _data_info(analysis: StudyAnalysis):
    """The dataset's sizes and class names from its metadata (`hyperlab.data.describe`), if known."""
    data = analysis.study.get("data")
    if not isinstance(data, dict) or not data:
        return None
    try:
        from hyperlab.data import DataConfig, describe

        return describe(DataConfig.model_validate({k: v for k, v in data.items() if k != "root"}))
    except Exception:  # an unknown or unavailable dataset only costs the class names
        return None


def _with_class_names(analysis: StudyAnalysis, info) -> StudyAnalysis:
    effects = analysis.per_class
    if info is None or effects is None or len(info.classes) != len(effects.classes):
        return analysis
    return replace(analysis, per_class=replace(effects, classes=tuple(str(c) for c in info.classes)))


def _artifacts(out: Path, given: Path | str | None) -> Path | None:
    if given is not None:
        return Path(given)
    reports = out.resolve().parent
    guess = reports.parent / "artifacts"
    return guess if reports.name == "reports" and guess.is_dir() else None


def _document(analysis: StudyAnalysis, findings, curve_figures, ranking, per_class, confusion, cost,
              view, info, baseline_curves=None, folder: Path | None = None) -> doc.Document:
    study = analysis.study
    data = study.get("data") or {}
    seeds = study.get("seeds") or []
    meta = [
        f"Design: {study.get('design', 'ablation')}; dataset: {data.get('dataset', 'unknown')}; "
        f"validation: {data.get('validation', 'n/a')}; seeds: {', '.join(str(s) for s in seeds) or 'n/a'}.",
    ]
    if info is not None:
        classes = f"; {len(info.classes)} classes" if info.classes else ""
        meta.append(f"Examples: {info.n_train:,} training, {info.n_val:,} validation, {info.n_test:,} test"
                    f"{classes}.")
    if study.get("updated"):
        meta.append(f"Store last updated {study['updated']}.")
    reading = doc.how_to_read(analysis)
    reading.bullets = grid_reading(analysis, reading.bullets)
    sections = [reading, doc.Section("Summary", "summary", bullets=list(findings.summary))]
    grid = grid_section(analysis, folder) if folder is not None else None
    if grid is not None:
        sections.append(grid)
    subsections = doc.findings_sections(findings, curve_figures)
    if findings.main_effects:
        subsections.insert(0, doc.Section("Main effects", "main-effects",
                                          bullets=list(findings.main_effects)))
    if subsections:
        sections.append(doc.Section(
            "Findings by factor", "findings",
            paragraphs=["Factors are ordered by the largest absolute paired difference of their levels in "
                        f"the {analysis.primary.label} (a descriptive ordering)."],
            subsections=subsections))
    else:
        sections.append(doc.Section(
            "Findings by factor", "findings",
            paragraphs=["This study has no factors: only the baseline was trained, so nothing is compared. "
                        "Its learning curves are below; its numbers are in the tables that follow."],
            figures=[f for f in [baseline_curves] if f]))
    sections.append(doc.Section(
        "Ranking of the variants", "ranking", figures=[f for f in [ranking] if f],
        tables=[doc.results_table(analysis)]))
    if analysis.comparisons:
        sections.append(doc.Section(
            "Paired comparisons with the baseline", "comparisons", tables=[doc.comparisons_table(analysis)]))
    else:
        nothing = ("No cell of this grid is the study file's baseline, so no cell is compared with a "
                   "reference (see The grid)." if analysis.grid is not None and analysis.baseline is None
                   else "No variant besides the baseline: nothing to compare.")
        sections.append(doc.Section("Paired comparisons with the baseline", "comparisons",
                                    paragraphs=[nothing]))
    sections.append(doc.Section(
        "Learning-curve diagnostics", "diagnostics", tables=[doc.diagnostics_table(analysis)]))
    if analysis.task == "classification":
        sections.append(doc.Section(
            "Per-class effects and confusion matrices", "classes",
            figures=[f for f in (per_class, confusion) if f],
            paragraphs=_classes_note(analysis, per_class, confusion)))
    sections.append(doc.Section("Cost and the Pareto front", "cost", figures=[f for f in [cost] if f],
                                tables=[doc.cost_table(analysis)]))
    sections.append(doc.Section("Trained models", "models", figures=[view.figure] if view.figure else [],
                                paragraphs=[view.note] if view.note else []))
    excluded = doc.excluded_table(analysis)
    sections.append(doc.Section(
        "Excluded trials", "excluded", tables=[excluded] if excluded else [],
        paragraphs=[] if excluded else ["Every trial finished and is included."]))
    sections.append(doc.methods_section(analysis.study.get("selection")))
    warnings = list(analysis.warnings)
    if info is not None and analysis.task == "classification" and 0 < info.n_val < 1000:
        warnings.append(f"The validation set has {info.n_val} examples: validation accuracy moves in steps "
                        f"of {100 / info.n_val:.2f} points, so seeds often tie and small differences "
                        f"cannot show.")
    return doc.Document(title=f"Study report: {study.get('name', 'unnamed study')}",
                        meta=[study["description"]] + meta if study.get("description") else meta,
                        warnings=warnings, sections=sections)


def _classes_note(analysis: StudyAnalysis, per_class, confusion) -> list[str]:
    notes = []
    if per_class is None and analysis.baseline is None:
        notes.append("Per-class effects are changes against the baseline; this study has no baseline "
                     "variant.")
    elif not (per_class or confusion):
        notes.append("No per-class results are stored.")
    return notes


def _embed(figure: figs.FigureFile) -> str:
    """A data: URI of the figure's file (SVG, or PNG for a dense one), so the page opens offline."""
    return f"data:{figure.media_type};base64," + base64.b64encode(figure.path.read_bytes()).decode("ascii")


def _md_cell(text: str) -> str:
    return str(text).replace("|", "\\|").replace("\n", " ")


def _relative(figure: figs.FigureFile) -> str:
    return f"figures/{figure.path.name}"


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)
