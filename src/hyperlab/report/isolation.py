"""An isolation study's report (index.html, report.md, figures/): what was re-tuned at each level of
the scientific factor, the isolation plot, the nuisance landscape per level, edge warnings, the
expected best score against the tuning budget, and findings on whether the scientific effect
survives re-tuning (docs/report.md, "Isolation")."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from pathlib import Path

import jinja2
import matplotlib as mpl
import numpy as np
from matplotlib.colors import Normalize

from hyperlab._version import __version__
from hyperlab.analysis.isolation import FIXED, RETUNED, Contrast, IsolationAnalysis
from hyperlab.analysis.results import MetricInfo
from hyperlab.analysis.stats import ALPHA
from hyperlab.report import figures as figs
from hyperlab.report import fmt
from hyperlab.report.document import Document, Section, Table
from hyperlab.report.write import _embed, _md_cell, _relative, _write_atomic

RETUNED_COLOUR, FIXED_COLOUR = "#1f77b4", "#7f7f7f"


def write_isolation_report(analysis: IsolationAnalysis, out_dir: Path | str, *,
                           artifacts_dir: Path | str | None = None) -> Path:  # noqa: ARG001 - one call for all
    """Render an isolation study's analysis into `out_dir` and return index.html's path."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "figures"
    isolation = isolation_figure(analysis, folder)
    landscape = landscape_figure(analysis, folder)
    budget = expected_best_figure(analysis, folder)
    sections = [
        Section("How to read this report", "how-to-read", bullets=reading(analysis)),
        Section("Isolation: what was re-tuned at each level", "isolation",
                paragraphs=retuned_paragraphs(analysis), bullets=findings(analysis),
                figures=[f for f in [isolation] if f], tables=[retuned_table(analysis)]),
        Section(f"Paired comparisons of the {analysis.scientific} levels", "comparisons",
                tables=[contrast_table(analysis)]),
        Section("Nuisance landscape per level", "landscape", figures=[f for f in [landscape] if f],
                paragraphs=[] if landscape else ["No searched trial has a value yet."]),
        Section("Expected best score against the tuning budget", "budget", figures=[f for f in [budget] if f],
                tables=[budget_table(analysis)]),
        Section("Searched configurations", "searched", tables=[searched_table(analysis)]),
        Section("Methods", "methods", bullets=METHODS),
    ]
    study = analysis.study
    meta = [study.get("description") or "",
            f"Design: isolation; dataset: {(study.get('data') or {}).get('dataset', 'unknown')}; scientific "
            f"factor: {analysis.scientific}; nuisance: {', '.join(r.name for r in analysis.nuisance)}; "
            f"{analysis.trials_per_level} {analysis.sampler} trials per level (seed {analysis.search_seed}); "
            f"confirmation seeds {', '.join(map(str, analysis.confirm_seeds))}."]
    meta = [m for m in meta if m]
    meta.append(f"Generated {datetime.now(UTC).strftime('%Y-%m-%d %H:%M UTC')} by hyperlab {__version__} in "
                f"{time.perf_counter() - started:.1f} s.")
    document = Document(f"Study report: {study.get('name', 'unnamed study')}", meta, list(analysis.warnings),
                        sections)
    environment = jinja2.Environment(
        loader=jinja2.PackageLoader("hyperlab.report", "templates"),
        autoescape=lambda name: bool(name) and name.endswith(".html.j2"),
        undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    html = environment.get_template("report.html.j2").render(
        doc=document, embed=_embed, css=environment.loader.get_source(environment, "report.css")[0])
    markdown = environment.get_template("report.md.j2").render(doc=document, md=_md_cell, rel=_relative)
    _write_atomic(out / "report.md", markdown)
    index = out / "index.html"
    _write_atomic(index, html)
    return index


# --- words ------------------------------------------------------------------------------------------
def _values(values: dict, names: list[str]) -> str:
    return ", ".join(f"{n} = {_show(values.get(n))}" for n in names)


def _show(value: object, digits: int = 4) -> str:
    """A nuisance value: a number to `digits` significant digits, a choice by its label."""
    return f"{value:.{digits}g}" if isinstance(value, float) else str(value)


def _nuisance_names(a: IsolationAnalysis) -> list[str]:
    return [r.name for r in a.nuisance]


def reading(a: IsolationAnalysis) -> list[str]:
    nuisance = " and ".join(_nuisance_names(a))
    them, were = ("them", "were") if len(a.nuisance) > 1 else ("it", "was")
    return [
        f"The question is the effect of {a.scientific}. Changing it at fixed {nuisance} confounds it with "
        f"{them} (a smaller batch also takes more steps at the same learning rate), so at each level of "
        f"{a.scientific} the {nuisance} {were} searched again ({a.trials_per_level} {a.sampler} trials, seed "
        f"{a.search_seed}, on the study's validation split), and the best setting of each level was re-run "
        f"with {len(a.confirm_seeds)} matched seeds, each on a new validation split that the search never "
        f"selected on.",
        f"Tested: every pair of levels, seed by seed, twice: at the baseline's {nuisance} (\"fixed\") and "
        f"with each level's re-tuned {nuisance} (\"re-tuned\"), on the {a.objective.label} of the new "
        f"splits and on the held-out {a.test_metric.label}; exact sign-flip permutation test, Holm's "
        f"correction over one family per kind (fixed, re-tuned): every pair of levels on both metrics. "
        f"\"Differs\" only when the Holm-adjusted p is below {ALPHA}.",
        "Descriptive: the searched values, the nuisance landscape, the expected best score against the "
        "budget and the edge warnings (no test).",
    ]


def retuned_paragraphs(a: IsolationAnalysis) -> list[str]:
    names = _nuisance_names(a)
    base = _values(a.baseline_nuisance, names)
    lines = [f"Re-tuned at each level of {a.scientific}: {', '.join(names)} (the baseline has {base}; every "
             f"other key is fixed at the baseline's value)."]
    for r in a.levels:
        done = sum(p.value is not None for p in r.searched)
        if r.best is None:
            lines.append(f"{a.scientific} = {r.level}: no searched trial has a value yet ({len(r.searched)} "
                         f"stored).")
            continue
        lines.append(f"{a.scientific} = {r.level}: {done} of {a.trials_per_level} searched configurations "
                     f"have a value; the best, by the {a.objective.label} of the search split, has "
                     f"{_values(r.best.values, names)} ({fmt.value(a.objective, r.best.value)}).")
    return lines


def _contrast_phrase(metric: MetricInfo, c) -> str:
    return fmt.finding(metric, c, power=False)


def findings(a: IsolationAnalysis) -> list[str]:
    """Per pair of levels and metric: the effect at fixed nuisance values, the effect re-tuned, and
    whether it survives re-tuning."""
    nuisance = ", ".join(_nuisance_names(a))
    out = []
    for c in a.contrasts:
        metric = a.objective if c.metric == a.objective.key else a.test_metric
        where = "new validation splits" if metric is a.objective else "held-out test set"
        head = (f"{a.scientific} {c.other} vs {c.reference} ({metric.label}, {where}): at the baseline's "
                f"{nuisance}, {_contrast_phrase(metric, c.fixed)}; with {nuisance} re-tuned at each "
                f"{a.scientific}, {_contrast_phrase(metric, c.retuned)}")
        out.append(f"{head}. {survival(c)}")
    return out


def survival(c: Contrast) -> str:
    """Whether the effect at fixed nuisance values survives re-tuning, in words. When the re-tuned
    difference is not detected, its interval decides what can be said: a re-tuned CI that still
    excludes zero (unadjusted), or that still holds the fixed-value difference, leaves the question
    open; only one that holds zero and excludes the fixed-value difference says the effect is gone."""
    fixed, retuned = c.fixed.significant, c.retuned.significant
    if not (c.fixed.testable and c.retuned.testable):
        return "Too few seeds for both tests: nothing is claimed."
    d_fixed, d_retuned = c.fixed.difference, c.retuned.difference
    same_sign = (d_fixed.mean or 0.0) * (d_retuned.mean or 0.0) > 0
    if fixed and retuned and same_sign:
        return "The effect survives re-tuning."
    if fixed and retuned:
        return "The effect reverses with re-tuning."
    if fixed:
        lo, hi = d_retuned.lo, d_retuned.hi
        n = f"n = {c.retuned.n} seeds"
        if lo is not None and hi is not None and (lo > 0 or hi < 0) and same_sign:
            return (f"Re-tuned, the difference keeps its sign and its unadjusted CI excludes zero, but it "
                    f"does not survive Holm's correction: whether the effect survives re-tuning is not "
                    f"established with {n} (more seeds would tell).")
        if lo is not None and hi is not None and lo <= (d_fixed.mean or 0.0) <= hi:
            return (f"Re-tuned, no difference is detected, but the re-tuned CI still contains the "
                    f"fixed-value difference: {n} cannot tell whether re-tuning removes the effect.")
        return ("The effect at fixed values does not survive re-tuning: the re-tuned difference's CI "
                "contains zero and excludes the fixed-value difference.")
    if retuned:
        return "An effect is detected only with re-tuning."
    return "No difference is detected either way."


# --- tables -----------------------------------------------------------------------------------------
def retuned_table(a: IsolationAnalysis) -> Table:
    names = _nuisance_names(a)
    rows = []
    for r in a.levels:
        best = [fmt.number(r.best.values.get(n), 4) if isinstance(r.best.values.get(n), float)
                else str(r.best.values.get(n)) for n in names] if r.best else ["-"] * len(names)
        re_obj, fx_obj = r.estimates[RETUNED][a.objective.key], r.estimates[FIXED][a.objective.key]
        re_test, fx_test = r.estimates[RETUNED][a.test_metric.key], r.estimates[FIXED][a.test_metric.key]
        rows.append([r.level, *best, fmt.mean_ci_n(a.objective, re_obj), fmt.mean_ci_n(a.objective, fx_obj),
                     fmt.mean_ci_n(a.test_metric, re_test), fmt.mean_ci_n(a.test_metric, fx_test)])
    return Table([a.scientific, *[f"re-tuned {n}" for n in names], f"{a.objective.label}, re-tuned",
                  f"{a.objective.label}, fixed", f"{a.test_metric.label}, re-tuned",
                  f"{a.test_metric.label}, fixed"], rows,
                 caption="Confirmation: mean over the matched seeds with a 95% interval, each seed on its "
                         "own new validation split; \"fixed\": the baseline's nuisance values at that level.")


def contrast_table(a: IsolationAnalysis) -> Table:
    rows = []
    for c in a.contrasts:
        metric = a.objective if c.metric == a.objective.key else a.test_metric
        for kind, comp in ((FIXED, c.fixed), (RETUNED, c.retuned)):
            rows.append([f"{c.other} vs {c.reference}", metric.label, kind,
                         f"{fmt.shift(metric, comp)} ({fmt.ci(metric, comp.difference, as_delta=True)})",
                         str(comp.n), comp.test or "none", fmt.p_value(comp.p_value),
                         fmt.p_value(comp.p_holm), fmt.verdict(comp)])
    return Table([a.scientific, "metric", "nuisance", "difference (95% CI)", "n", "test", "p", "Holm p",
                  "verdict"], rows,
                 caption="Difference = the first level minus the second, seed by seed. Holm family: every "
                         "pair of levels on every metric, one family per kind (fixed, re-tuned).")


def budget_table(a: IsolationAnalysis) -> Table:
    ks = sorted({k for r in a.levels for k in (1, len(r.expected_best) // 2, len(r.expected_best)) if k >= 1})
    rows = [[r.level, *[fmt.value(a.objective, r.expected_best[k - 1]) if k <= len(r.expected_best) else "-"
                        for k in ks]] for r in a.levels]
    return Table([a.scientific, *[f"k = {k}" for k in ks]], rows,
                 caption="Expected best search objective of k trials drawn from each level's searched trials "
                         "(Dodge et al. 2019); descriptive.")


def searched_table(a: IsolationAnalysis) -> Table:
    names = _nuisance_names(a)
    rows = []
    for r in a.levels:
        for p in r.searched:
            mark = " (best)" if r.best is not None and p.key == r.best.key else ""
            rows.append([r.level, str(p.number), p.status, fmt.value(a.objective, p.value) + mark,
                         *[_show(p.values.get(n)) for n in names]])
    return Table([a.scientific, "#", "status", f"{a.objective.label} (search split)", *names], rows)


# --- figures ----------------------------------------------------------------------------------------
def _scale(metric: MetricInfo) -> float:
    return 100.0 if metric.percent else 1.0


def isolation_figure(a: IsolationAnalysis, folder: Path) -> figs.FigureFile | None:
    """Per level: the re-tuned best (labelled with its nuisance values) and the fixed setting, mean
    over the confirmation seeds with its 95% interval."""
    metric, scale = a.objective, _scale(a.objective)
    if not any(r.estimates[k][metric.key].mean is not None for r in a.levels for k in (RETUNED, FIXED)):
        return None
    names = _nuisance_names(a)
    with mpl.rc_context(figs.RC):
        fig = figs._figure(max(5.0, 1.9 * len(a.levels) + 1.5), 4.0)
        ax = fig.subplots()
        for offset, kind, colour, face in ((-0.08, FIXED, FIXED_COLOUR, "white"),
                                           (0.08, RETUNED, RETUNED_COLOUR, RETUNED_COLOUR)):
            for i, r in enumerate(a.levels):
                e = r.estimates[kind][metric.key]
                if e.mean is None:
                    continue
                err = None if e.lo is None else [[scale * (e.mean - e.lo)], [scale * (e.hi - e.mean)]]
                ax.errorbar(i + offset, scale * e.mean, yerr=err, fmt="o", color=colour, mfc=face, capsize=3,
                            label=(f"{kind} ({', '.join(names)})" if i == 0 else None))
                if kind == RETUNED and r.best is not None:
                    text = "\n".join(f"{n}={_show(r.best.values.get(n), 3)}" for n in names)
                    ax.annotate(text, (i + offset, scale * e.mean), xytext=(8, -4),
                                textcoords="offset points", fontsize=7, color=colour, va="top")
        ax.set_xticks(range(len(a.levels)), [r.level for r in a.levels])
        ax.set_xlim(-0.5, len(a.levels) - 0.2)  # room on the right for the last label
        ax.set_xlabel(a.scientific)
        ax.set_ylabel(f"{metric.label}" + (" (%)" if metric.percent else "") + ", new validation splits")
        ax.grid(axis="y", alpha=0.3)
        ax.legend(fontsize=8, frameon=False, loc="best")
        ax.set_title(f"Isolation plot: {a.scientific}")
    return figs.save(fig, folder, "isolation", f"Isolation plot: {a.scientific}",
                     f"Filled: each level's best {', '.join(names)} (re-tuned, labelled with its values); "
                     f"hollow: the baseline's values at that level (fixed). Mean {metric.label} over "
                     f"{len(a.confirm_seeds)} matched seeds, each on a new validation split, with 95% "
                     f"t-intervals.")


def landscape_figure(a: IsolationAnalysis, folder: Path) -> figs.FigureFile | None:
    """Per level, the searched points (first two nuisance factors; one factor: against the objective),
    coloured by the search objective, the best marked with a star."""
    if not any(p.value is not None for r in a.levels for p in r.searched):
        return None
    metric, scale = a.objective, _scale(a.objective)
    ranges = list(a.nuisance[:2])
    values = [scale * p.value for r in a.levels for p in r.searched if p.value is not None]
    norm = Normalize(min(values), max(values))
    with mpl.rc_context(figs.RC):
        n = len(a.levels)
        fig = figs._figure(3.3 * n + 1.2, 3.4)
        axes = np.atleast_1d(fig.subplots(1, n, squeeze=False, sharex=True, sharey=True)).ravel()
        image = None
        for ax, r in zip(axes, a.levels, strict=True):
            points = [p for p in r.searched if p.value is not None]
            xs = [_position(ranges[0], p.values.get(ranges[0].name)) for p in points]
            ys = ([_position(ranges[1], p.values.get(ranges[1].name)) for p in points] if len(ranges) > 1
                  else [scale * p.value for p in points])
            image = ax.scatter(xs, ys, c=[scale * p.value for p in points], cmap="viridis", norm=norm, s=28,
                               edgecolors="0.3", linewidths=0.4)
            failed = [p for p in r.searched if p.value is None and p.status not in ("pending", "running")]
            if failed and len(ranges) > 1:
                ax.scatter([_position(ranges[0], p.values.get(ranges[0].name)) for p in failed],
                           [_position(ranges[1], p.values.get(ranges[1].name)) for p in failed], marker="x",
                           color="#d62728", s=24)
            if r.best is not None:
                bx = _position(ranges[0], r.best.values.get(ranges[0].name))
                by = (_position(ranges[1], r.best.values.get(ranges[1].name)) if len(ranges) > 1
                      else scale * r.best.value)
                ax.scatter([bx], [by], marker="*", s=220, facecolors="none", edgecolors="#e8590c",
                           linewidths=1.5)
            ax.set_title(f"{a.scientific} = {r.level}")
            ax.set_xlabel(ranges[0].name)
            _axis(ax, ranges[0], "x")
            if len(ranges) > 1:
                _axis(ax, ranges[1], "y")
            ax.grid(alpha=0.3)
        axes[0].set_ylabel(ranges[1].name if len(ranges) > 1 else metric.label)
        if image is not None:
            fig.colorbar(image, ax=list(axes), label=f"{metric.label}" + (" (%)" if metric.percent else "")
                         + ", search split")
    rest = ", ".join(r.name for r in a.nuisance[2:])
    more = f" Only the first two nuisance factors are drawn ({rest} not)." if rest else ""
    return figs.save(fig, folder, "landscape", "Nuisance landscape per level",
                     f"Each searched configuration of each level (one seed), coloured by the search "
                     f"objective; the star is the level's best (chosen on the search's validation split); "
                     f"x: failed or diverged.{more}")


def _position(r, value) -> float:
    if r.kind == "categorical":
        return float(r.choices.index(value)) if value in r.choices else float("nan")
    return float(value) if value is not None else float("nan")


def _axis(ax, r, which: str) -> None:
    if r.kind == "categorical":
        (ax.set_xticks if which == "x" else ax.set_yticks)(range(len(r.choices)), r.choices)
    elif r.log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")


def expected_best_figure(a: IsolationAnalysis, folder: Path) -> figs.FigureFile | None:
    levels = [r for r in a.levels if r.expected_best]
    if not levels:
        return None
    metric, scale = a.objective, _scale(a.objective)
    with mpl.rc_context(figs.RC):
        fig = figs._figure(5.6, 3.6)
        ax = fig.subplots()
        for i, r in enumerate(levels):
            ks = np.arange(1, len(r.expected_best) + 1)
            ax.plot(ks, scale * np.asarray(r.expected_best), marker="o", markersize=3,
                    color=figs.PALETTE[i % len(figs.PALETTE)], label=f"{a.scientific} = {r.level}")
        ax.set_xlabel("tuning budget k (searched trials)")
        ax.set_ylabel(f"expected best {metric.label}" + (" (%)" if metric.percent else ""))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8, frameon=False)
    return figs.save(fig, folder, "expected-best", "Expected best score against the tuning budget",
                     "Dodge et al. (2019): the expected best search objective of k trials drawn with "
                     "replacement from each level's searched trials, k = 1 .. the trials searched. A level "
                     "whose curve still climbs at the end would likely gain from a larger budget. "
                     "Descriptive.")


METHODS = [
    "Search: at each scientific level, an Optuna sampler (one per level, hyperlab.search.SearchDriver) "
    "proposes nuisance configurations; each trains with the search seed on the study's validation "
    "split; its value is the objective at the trial's end. qmc is Optuna's QMCSampler (Sobol, "
    "unscrambled: every level is searched at the same points, the first one drawn at random).",
    "Confirmation: each level's best configuration (by the search objective) and the baseline's nuisance "
    "values at that level are re-run with the confirmation seeds; seed k uses data.split_seed + k, so its "
    "validation split is not the one the search selected on, and the test set is never used to choose.",
    "Statistics: means over seeds with 95% t-intervals (logit-t for accuracies whose t-interval would leave "
    "0-100%); pairs of levels compared seed by seed with the two-sided exact sign-flip "
    "permutation test (scipy.stats.permutation_test); Holm's correction (statsmodels) over one family per "
    "kind (fixed, re-tuned): every pair of levels on every metric.",
    "Edge warning: the best value of a range factor within 5% of an end of its range (in log space for a log "
    "range).",
    "Expected best score (Dodge et al. 2019, 'Show Your Work'): sum over the level's searched values sorted "
    "from worst to best of v_(i) * ((i/n)^k - ((i-1)/n)^k).",
]
