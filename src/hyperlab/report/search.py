"""A search study's report: index.html and report.md with the optimization history, a slice plot
per factor, importance with intervals, marginal effects, the pruned/infeasible counts, the
confirmation table and the verdict; the confirmation stage's full ablation report (paired tests,
Holm, curves) is written beside it in `confirmation/`."""

from __future__ import annotations

import html
import math
import time
from datetime import UTC, datetime
from pathlib import Path

import matplotlib as mpl
import numpy as np

from hyperlab._version import __version__
from hyperlab.analysis.search import BOOTSTRAP, SearchAnalysis, ranking_sentence
from hyperlab.analysis.stats import Estimate
from hyperlab.report import figures as figs
from hyperlab.report.write import _embed, _write_atomic, write_report

STATUS_COLOURS = {"completed": "#1f77b4", "early_stopped": "#1f77b4", "pruned": "#ff7f0e",
                  "infeasible": "#7f7f7f", "diverged": "#d62728", "failed": "#d62728"}


def write_search_report(analysis: SearchAnalysis, out_dir: Path | str, *,
                        artifacts_dir: Path | str | None = None) -> Path:
    """Render a search's analysis into `out_dir` (index.html, report.md, figures/, confirmation/)."""
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    folder = out / "figures"
    jobs = [(figure, (analysis, folder)) for figure in (history_figure, slice_figure, importance_figure,
                                                         effects_figure)]
    figures = [f for f in figs.render(jobs) if f]
    if analysis.confirmation is not None:
        write_report(analysis.confirmation, out / "confirmation",
                     artifacts_dir=artifacts_dir or _artifacts_of(out))
    sections = _sections(analysis)
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    meta = f"Generated {generated} by hyperlab {__version__} in {time.perf_counter() - started:.1f} s."
    _write_atomic(out / "report.md", _markdown(analysis, sections, figures, meta))
    index = out / "index.html"
    _write_atomic(index, _html(analysis, sections, figures, meta))
    return index


def _artifacts_of(out: Path) -> Path | None:
    guess = out.resolve().parent.parent / "artifacts"
    return guess if out.resolve().parent.name == "reports" and guess.is_dir() else None


# --- tables: (title, header, rows, note) ---------------------------------------------------------------

def _sections(a: SearchAnalysis) -> list[tuple[str, list[str], list[list[str]], str]]:
    counts = [[status, str(n)] for status, n in a.counts.items()]
    sections = [("Searched trials by outcome", ["status", "trials"], counts,
                 "pruned: stopped by the pruner after the epoch shown (a result, not a failure); "
                 "infeasible: over [budget], measured before training and never trained.")]
    if a.importance:
        sections.append(("Importance (PED-ANOVA)", ["factor", "importance", "95% interval"],
                         [[i.factor, f"{i.importance:.3f}", f"{i.lo:.3f} to {i.hi:.3f}"]
                          for i in a.importance],
                         "How much each factor's distribution among the best quarter of the trials differs "
                         "from its distribution among all of them (PED-ANOVA, Watanabe et al. 2023: "
                         "Optuna's PedAnovaImportanceEvaluator, target_quantile 0.25, normalized to sum "
                         f"to 1), on every searched trial with a value; intervals: 2.5th and 97.5th "
                         f"percentiles over {BOOTSTRAP} bootstrap resamples of the trials. "
                         + ranking_sentence(a.importance) + " " + (a.importance_note or "")))
    else:
        sections.append(("Importance (PED-ANOVA)", [], [], a.importance_note or "Not computed."))
    if a.confirmation is not None:
        rows = []
        for c in a.confirmation.comparisons:
            d = c.difference
            rows.append([c.variant, c.metric, _num(d.mean), _ci(d), _p(c.p_value), _p(c.p_holm),
                         str(len(c.seeds))])
        sections.append((
            "Confirmation: the best configurations against the baseline",
            ["configuration", "metric", "difference", "95% CI", "p", "p (Holm)", "n"], rows,
            f"Paired by seed (seeds {', '.join(map(str, a.confirm_seeds))}; the search used another seed), "
            "each seed on its own validation split (data.split_seed = the search's + seed - search seed), "
            "difference = configuration - baseline, exact sign-flip permutation test, one Holm family "
            f"over both metrics of the confirmed configurations and, as p = 1, of the other "
            f"{max(0, a.eligible - len(a.top))} eligible searched configurations (the confirmed ones were "
            "selected from all of them). "
            "The configurations were chosen on validation data; test data decides. Full report: "
            "confirmation/index.html."))
    trial_rows = [[str(t.number), t.status, _num(t.value), str(t.epochs),
                   *[_value(t.values.get(f)) for f in a.factors]] for t in a.trials]
    sections.append(("Searched trials", ["#", "status", a.objective, "epochs", *a.factors], trial_rows,
                     f"In the order the {a.sampler} sampler proposed them; {a.objective} at the trial's end "
                     f"(validation data)."))
    return sections


def _num(value: float | None) -> str:
    return "-" if value is None or not math.isfinite(value) else f"{value:.4f}"


def _ci(e: Estimate) -> str:
    return "-" if e.lo is None else f"{e.lo:+.4f} to {e.hi:+.4f}"


def _p(p: float | None) -> str:
    return "-" if p is None else f"{p:.3g}"


def _value(value: object) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


# --- figures -------------------------------------------------------------------------------------------

def history_figure(a: SearchAnalysis, folder: Path) -> figs.FigureFile | None:
    """Each searched trial's objective in proposal order and the best so far; trials without a value
    (pruned, infeasible, failed, diverged) as crosses on the axis's floor, in their status colour."""
    if not a.trials:
        return None
    with mpl.rc_context(figs.RC):
        fig = figs._figure(6.4, 3.4)
        ax = fig.add_subplot()
        scored = [t for t in a.trials if t.value is not None]
        ax.scatter([t.number for t in scored], [t.value for t in scored], s=14, zorder=3, label="finished",
                   color=[STATUS_COLOURS.get(t.status, "#1f77b4") for t in scored])
        best = [(n, b) for n, _, b in a.history if b is not None]
        if best:
            ax.step([n for n, _ in best], [b for _, b in best], where="post", color="#222222",
                    label="best so far")
        unscored = [t for t in a.trials if t.value is None and t.status not in ("pending", "running")]
        for status in dict.fromkeys(t.status for t in unscored):
            numbers = [t.number for t in unscored if t.status == status]
            # on the axis's floor (axes coordinates for y): they have no objective to place them by
            ax.scatter(numbers, [0.0] * len(numbers), marker="x", s=24, clip_on=False, zorder=3,
                       color=STATUS_COLOURS.get(status, "0.5"), transform=ax.get_xaxis_transform(),
                       label=f"{status} (no value)")
        _bound_objective(ax, a.objective)
        ax.set_xlabel("trial (proposal order)")
        ax.set_ylabel(a.objective)
        fig.legend(loc="outside right upper", frameon=False, fontsize=8)
    return figs.save(fig, folder, "search-history", "Optimization history",
                     f"{a.objective} of each trial with a value (dots) and the best so far (line); trials "
                     f"stopped without a value (pruned, infeasible, failed, diverged) are crosses on the "
                     f"x axis.")


def _bound_objective(ax, objective: str) -> None:
    """Keep the y axis inside the objective's range (accuracies 0 to 1, losses from 0)."""
    low, high = ax.get_ylim()
    if "accuracy" in objective:
        ax.set_ylim(max(low, 0.0), min(high, 1.0))
    elif "loss" in objective or "mse" in objective or "mae" in objective:
        ax.set_ylim(max(low, 0.0), high)


def _range_of(objective: str) -> tuple[float, float]:
    if "accuracy" in objective:
        return 0.0, 1.0
    if "loss" in objective or "mse" in objective or "mae" in objective:
        return 0.0, math.inf
    return -math.inf, math.inf


def slice_figure(a: SearchAnalysis, folder: Path) -> figs.FigureFile | None:
    scored = [t for t in a.trials if t.value is not None]
    if not scored or not a.factors:
        return None
    with mpl.rc_context(figs.RC):
        fig = figs._figure(3.0 * len(a.factors), 3.0)
        axes = fig.subplots(1, len(a.factors), squeeze=False, sharey=True)[0]
        for ax, name in zip(axes, a.factors, strict=True):
            effect = next(e for e in a.effects if e.factor == name)
            if effect.kind == "categorical":
                positions = {label: j for j, label in enumerate(effect.bins)}
                xs = [positions.get(t.values.get(name), 0) for t in scored]
                ax.set_xticks(range(len(effect.bins)), effect.bins, rotation=30, ha="right", fontsize=7)
            else:
                xs = [float(t.values[name]) for t in scored]
                if effect.log:
                    ax.set_xscale("log")
            points = ax.scatter(xs, [t.value for t in scored], s=12, c=[t.number for t in scored],
                                cmap="viridis")
            ax.set_xlabel(name)
        axes[0].set_ylabel(a.objective)
        fig.colorbar(points, ax=list(axes), label="trial", shrink=0.9)
    return figs.save(fig, folder, "search-slices", "Slice plots",
                     f"{a.objective} of each trial against each factor's value (colour: trial number).")


def importance_figure(a: SearchAnalysis, folder: Path) -> figs.FigureFile | None:
    if not a.importance:
        return None
    with mpl.rc_context(figs.RC):
        fig = figs._figure(5.0, 1.0 + 0.45 * len(a.importance))
        ax = fig.add_subplot()
        items = list(reversed(a.importance))
        y = np.arange(len(items))
        ax.barh(y, [i.importance for i in items], color="#1f77b4")
        ax.errorbar([i.importance for i in items], y,
                    xerr=[[max(0.0, i.importance - i.lo) for i in items],
                          [max(0.0, i.hi - i.importance) for i in items]],
                    fmt="none", color="#222222", capsize=3)
        ax.set_yticks(y, [i.factor for i in items])
        ax.set_xlim(0.0, 1.0)  # normalized: the importances sum to 1
        ax.set_xlabel("PED-ANOVA importance (normalized)")
    return figs.save(fig, folder, "search-importance", "Importance with 95% intervals",
                     f"PED-ANOVA importance on every searched trial with a value (pruned ones at their last "
                     f"value); whiskers: 95% intervals over {BOOTSTRAP} bootstrap resamples. "
                     + ranking_sentence(a.importance))


def effects_figure(a: SearchAnalysis, folder: Path) -> figs.FigureFile | None:
    effects = [e for e in a.effects if e.bins]
    if not effects:
        return None
    low, high = _range_of(a.objective)
    with mpl.rc_context(figs.RC):
        fig = figs._figure(3.0 * len(effects), 3.0)
        axes = fig.subplots(1, len(effects), squeeze=False, sharey=True)[0]
        for ax, e in zip(axes, effects, strict=True):
            points = [(x, est) for x, est in zip(e.centers, e.estimates, strict=True) if est.mean is not None]
            ax.plot([x for x, _ in points], [est.mean for _, est in points], marker="o", color="#1f77b4")
            band = [(x, est) for x, est in points if est.lo is not None]
            if band:  # a t-interval can leave the metric's range (an accuracy over 1): cut at its bounds
                ax.fill_between([x for x, _ in band], [max(est.lo, low) for _, est in band],
                                [min(est.hi, high) for _, est in band], color="#1f77b4", alpha=0.2)
            if e.kind == "categorical":
                ax.set_xticks(list(e.centers), e.bins, rotation=30, ha="right", fontsize=7)
            elif e.log:
                ax.set_xscale("log")
            ax.set_xlabel(e.factor)
        axes[0].set_ylabel(f"mean {a.objective}")
        _bound_objective(axes[0], a.objective)
    return figs.save(fig, folder, "search-effects", "Marginal effect of each factor",
                     "Mean objective per choice or per quantile bin of a range, with 95% t-intervals cut at "
                     "the objective's range (descriptive: the other factors vary too).")


# --- documents -----------------------------------------------------------------------------------------

def _intro(a: SearchAnalysis) -> list[str]:
    best = "none yet" if a.best is None else f"{a.best.variant} ({a.objective} {a.best.value:.4f})"
    return [a.study.get("description") or "",
            f"Search: {len(a.trials)} configurations, {a.sampler} sampler, pruner {a.pruner}, objective "
            f"{a.objective} ({'maximized' if a.maximize else 'minimized'}, validation data).",
            f"Best configuration by validation: {best}.", a.verdict, _optimism(a), *a.warnings]


def _optimism(a: SearchAnalysis) -> str:
    """The winner's search score against its confirmed score: what selecting on one split cost."""
    o = a.optimism
    if o is None or o.mean is None or a.best is None:
        return ""
    interval = "" if o.lo is None else f" (95% t-interval {o.lo:+.4f} to {o.hi:+.4f})"
    return (f"Optimism of the winner (descriptive): its search {a.objective} ({a.best.value:.4f}, the split "
            f"it was selected on) minus its {a.objective} at the confirmation seeds, each on a validation "
            f"split of its own, is {o.mean:+.4f}{interval}, n = {o.n} seeds: the selection's part of "
            f"the search score.")


def _markdown(a: SearchAnalysis, sections, figures, meta: str) -> str:
    lines = [f"# {a.study.get('name')}", "", *[f"{p}\n" for p in _intro(a) if p]]
    for fig in figures:
        lines += [f"## {fig.title}", "", f"![{fig.title}](figures/{fig.path.name})", "", fig.caption, ""]
    for title, header, rows, note in sections:
        lines += [f"## {title}", ""]
        if header:
            lines += ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
            lines += ["| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows]
            lines.append("")
        lines += [note, ""]
    lines += [meta, ""]
    return "\n".join(lines)


def _html(a: SearchAnalysis, sections, figures, meta: str) -> str:
    e = html.escape
    parts = [f"<!doctype html><html><head><meta charset='utf-8'><title>{e(str(a.study.get('name')))}</title>"
             "<style>body{font-family:sans-serif;max-width:60em;margin:2em auto;padding:0 1em}"
             "table{border-collapse:collapse}td,th{border:1px solid #ccc;padding:2px 6px;font-size:90%}"
             "img{max-width:100%}</style></head><body>", f"<h1>{e(str(a.study.get('name')))}</h1>"]
    parts += [f"<p>{e(p)}</p>" for p in _intro(a) if p]
    for fig in figures:
        parts.append(f"<h2>{e(fig.title)}</h2><img alt='{e(fig.title)}' src='{_embed(fig)}'>"
                     f"<p>{e(fig.caption)}</p>")
    for title, header, rows, note in sections:
        parts.append(f"<h2>{e(title)}</h2>")
        if header:
            parts.append("<table><tr>" + "".join(f"<th>{e(h)}</th>" for h in header) + "</tr>")
            parts += ["<tr>" + "".join(f"<td>{e(c)}</td>" for c in row) + "</tr>" for row in rows]
            parts.append("</table>")
        parts.append(f"<p>{e(note)}</p>")
    if a.confirmation is not None:
        parts.append("<p><a href='confirmation/index.html'>The confirmation stage's full report</a></p>")
    parts.append(f"<p><small>{e(meta)}</small></p></body></html>")
    return "\n".join(parts)
