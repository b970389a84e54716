"""The report's figures, drawn from the analysis with matplotlib's object API (no pyplot, Agg canvas).

Each figure is drawn once and saved once under `figures/`: as SVG (text stays text, sharp at any
zoom), or as PNG when its SVG would be over `MAX_SVG_BYTES` (dense scatter plots). Every figure uses
constrained layout, which makes room for every label, title and legend inside the figure
(tests/report/test_figure_layout.py checks each text's extent). Every variant keeps one colour in all
of them. `render` draws a report's figures in worker processes when there are many.
"""

from __future__ import annotations

import io
import math
import multiprocessing
import os
import re
import signal
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import matplotlib as mpl
import numpy as np
from matplotlib.colors import TwoSlopeNorm
from matplotlib.figure import Figure

from hyperlab.analysis.results import Curve, FactorInfo, StudyAnalysis

BASELINE_COLOUR = "#222222"
PALETTE = [c for i, c in enumerate(mpl.colormaps["tab10"].colors) if i != 7]  # 7 is grey: the baseline's
PALETTE += [c for i, c in enumerate(mpl.colormaps["tab20"].colors) if i % 2 == 1 and i != 15]
DPI = 110
RC = {"svg.hashsalt": "hyperlab", "svg.fonttype": "none", "font.size": 9, "axes.titlesize": 10,
      "axes.spines.top": False, "axes.spines.right": False}


MAX_SVG_BYTES = 1_500_000  # a bigger SVG (thousands of markers) is written as PNG instead
# This many figures or more are drawn in worker processes (with 2+ cores); fewer are drawn here. The
# workers cost CPU of their own (a server importing matplotlib, numpy and the analysis, ~2-3 s): for the
# quickstart's 9 figures (~0.3 s each) `hyperlab report` took 8.1-9.2 s of CPU with them against
# 5.8-6.1 s without (benchmarks: docs/report.md), so they pay only for big reports on an idle machine.
# `start_workers()` starts them ahead of time, for a caller that knows a big report is coming;
# PARALLEL_MIN applies then.
PARALLEL_MIN = 4
PARALLEL_MIN_COLD = 16
MAX_PROCESSES = 4


@dataclass(frozen=True)
class FigureFile:
    """One written figure: its file (SVG, or PNG for a dense one) and what it shows."""

    slug: str
    title: str
    caption: str
    path: Path

    @property
    def media_type(self) -> str:
        return "image/svg+xml" if self.path.suffix == ".svg" else "image/png"


def colours(analysis: StudyAnalysis) -> dict[str, tuple]:
    """One colour per variant, fixed by plan order (the baseline is near-black)."""
    mapping: dict[str, tuple] = {}
    others = [v.name for v in analysis.variants if v.name != analysis.baseline]
    if analysis.baseline:
        mapping[analysis.baseline] = mpl.colors.to_rgb(BASELINE_COLOUR)
    for i, name in enumerate(others):
        mapping[name] = tuple(PALETTE[i % len(PALETTE)])
    return mapping


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "figure"


def save(fig: Figure, folder: Path, name: str, title: str, caption: str) -> FigureFile:
    """Draw the figure once and write it atomically (temp file + rename): SVG, or PNG when the SVG
    would be over MAX_SVG_BYTES. A figure of an earlier report under the other format is removed."""
    folder.mkdir(parents=True, exist_ok=True)
    with mpl.rc_context(RC):
        data = io.BytesIO()
        fig.savefig(data, format="svg", metadata={"Date": None})
        ext = "svg"
        if data.tell() > MAX_SVG_BYTES:
            fig.set_layout_engine("none")  # solved for the SVG: the PNG reuses it
            data = io.BytesIO()
            fig.savefig(data, format="png", dpi=DPI, metadata={"Software": None})
            ext = "png"
    path = folder / f"{name}.{ext}"
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_bytes(data.getvalue())
    os.replace(tmp, path)
    path.with_suffix(".png" if ext == "svg" else ".svg").unlink(missing_ok=True)
    return FigureFile(name, title, caption, path)


Job = tuple[Callable[..., object], tuple]  # a figure function and its arguments (picklable)


_pool: ProcessPoolExecutor | None = None  # started by start_workers, kept for the process's reports


def _cores() -> int:
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)


def start_workers() -> None:
    """Start the figure workers now, in the background, so that they are ready when a report is drawn:
    a 'forkserver' (never 'fork': a run's threads may hold locks) whose server imports this module once,
    and the workers forked from it. Nothing happens on one core or where there is no forkserver."""
    global _pool
    if _pool is not None or _cores() < 2 or "forkserver" not in multiprocessing.get_all_start_methods():
        return
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload([__name__])
    _pool = ProcessPoolExecutor(min(_cores(), MAX_PROCESSES), mp_context=context,
                                initializer=_quiet_on_ctrl_c)
    _pool.submit(int)  # starts the server and a worker without waiting for them


def render(jobs: Sequence[Job]) -> list:
    """Run each figure job (`function(*args)`, returning what it returns): in the worker processes when
    there are enough jobs to repay them (PARALLEL_MIN if `start_workers` ran, else PARALLEL_MIN_COLD)
    and more than one core; else here, one after the other."""
    if len(jobs) >= (PARALLEL_MIN if _pool is not None else PARALLEL_MIN_COLD):
        start_workers()
    if _pool is None or len(jobs) < PARALLEL_MIN:
        return [function(*args) for function, args in jobs]
    return list(_pool.map(_run_job, jobs))


def _quiet_on_ctrl_c() -> None:
    # Ctrl-C reaches the whole process group: the run stops after its epoch (runner.interrupt) and ends
    # the pool; a worker waiting for a figure must not print a KeyboardInterrupt traceback meanwhile.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_job(job: Job) -> object:
    function, args = job
    return function(*args)


def _figure(width: float, height: float) -> Figure:
    with mpl.rc_context(RC):
        return Figure(figsize=(width, height), layout="constrained")


def level_name(analysis: StudyAnalysis, name: str) -> str:
    """A level's label within its factor; a grid cell (several factors) keeps its full name."""
    v = analysis.variant(name)
    return v.level if v.level and v.factor and ", " not in v.factor else name


def _label(analysis: StudyAnalysis, name: str) -> str:
    v = analysis.variant(name)
    if v.is_baseline or name == analysis.baseline:
        return f"baseline ({name})" if name != "baseline" else "baseline"
    return v.level or name


def _band(ax, curve: Curve, colour, style: str, label: str | None, scale: float,
          bounds: tuple[float, float] | None = None) -> None:
    """Mean line and 95% band; `bounds` clips the band to a metric's range (accuracy: 0-100%)."""
    ax.plot(curve.epochs, scale * curve.mean, color=colour, linestyle=style, linewidth=1.4, label=label)
    ok = np.isfinite(curve.lo) & np.isfinite(curve.hi)
    if ok.any():
        lo, hi = scale * curve.lo[ok], scale * curve.hi[ok]
        if bounds is not None:
            lo, hi = np.clip(lo, *bounds), np.clip(hi, *bounds)
        ax.fill_between(curve.epochs[ok], lo, hi, color=colour, alpha=0.18 if style == "-" else 0.08,
                        linewidth=0)


OVERLAY_MAX = 6  # more levels than this are drawn as small multiples, one panel per level


def curves_figure(analysis: StudyAnalysis, factor: FactorInfo, folder: Path) -> FigureFile:
    """Accuracy and loss against epochs for the baseline and every level of one factor."""
    if len(factor.variants) > OVERLAY_MAX:
        return _small_multiples(analysis, factor, folder)
    with mpl.rc_context(RC):
        colour = colours(analysis)
        names = [n for n in [analysis.baseline, *factor.variants] if n and analysis.curves.get(n)]
        panels = [("accuracy", "train_accuracy", "val_accuracy", 100.0, "accuracy (%)")] \
            if analysis.task == "classification" else [("MSE", "train_mse", "val_mse", 1.0, "MSE")]
        panels.append(("loss", "train_loss", "val_loss", 1.0, "loss"))
        panels = [p for p in panels if any(p[2] in analysis.curves[n] for n in names)]
        fig = _figure(5.0 * max(1, len(panels)), 3.6)
        axes = fig.subplots(1, max(1, len(panels)), squeeze=False)[0]
        any_log = False
        for ax, (title, train_key, val_key, scale, ylabel) in zip(axes, panels, strict=False):
            log = title == "loss" and _spans_decades(analysis, names, (train_key, val_key))
            any_log = any_log or log
            bounds = (0.0, 100.0) if title == "accuracy" else (0.0, np.inf)  # losses and MSE are >= 0
            if log:  # a t-band can reach below zero; on a log axis it is cut at half the smallest mean
                bounds = (0.5 * _smallest_mean(analysis, names, (train_key, val_key)), np.inf)
            for name in names:
                curves = analysis.curves[name]
                if val_key in curves:
                    _band(ax, curves[val_key], colour[name], "-", _label(analysis, name), scale, bounds)
                if train_key in curves:
                    _band(ax, curves[train_key], colour[name], "--", None, scale, bounds)
            ax.set_title(f"{title}: validation solid, training dashed")
            ax.set_xlabel("epoch")
            ax.set_ylabel(ylabel)
            ax.grid(alpha=0.3)
            if log:
                ax.set_yscale("log")
        axes[0].legend(title=factor.name, fontsize=8, frameon=False)
        fig.suptitle(f"{factor.name}: mean over seeds with 95% CI bands")
    clipped = (" The loss axis is logarithmic: a band reaching below half the smallest mean loss is cut "
               "there (a t-band can reach below zero, which a log axis cannot show)." if any_log else "")
    return save(fig, folder, f"curves-{slug(factor.name)}", f"Learning curves: {factor.name}",
                f"Accuracy and loss against epochs for the baseline and each level of {factor.name}: "
                f"validation solid, training dashed, mean over seeds with a 95% t-interval band (accuracy "
                f"bands cut at 0% and 100%).{clipped}")


def _small_multiples(analysis: StudyAnalysis, factor: FactorInfo, folder: Path) -> FigureFile:
    """One panel per level (validation solid, training dashed) with the baseline's validation curve."""
    classification = analysis.task == "classification"
    train_key, val_key = ("train_accuracy", "val_accuracy") if classification else ("train_loss", "val_loss")
    scale = 100.0 if classification else 1.0
    bounds = (0.0, 100.0) if classification else None
    names = [n for n in factor.variants if analysis.curves.get(n)]
    with mpl.rc_context(RC):
        colour = colours(analysis)
        n_cols = 4
        n_rows = -(-len(names) // n_cols)
        fig = _figure(3.3 * n_cols, 2.6 * n_rows)
        axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False, sharex=True, sharey=True)).ravel()
        base = analysis.curves.get(analysis.baseline or "", {})
        for ax, name in zip(axes, names, strict=False):
            if val_key in base:
                _band(ax, base[val_key], colour[analysis.baseline], "-", "baseline", scale, bounds)
            curves = analysis.curves[name]
            if val_key in curves:
                _band(ax, curves[val_key], colour[name], "-", "validation", scale, bounds)
            if train_key in curves:
                _band(ax, curves[train_key], colour[name], "--", "training", scale, bounds)
            ax.set_title(level_name(analysis, name), fontsize=8)
            ax.grid(alpha=0.3)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        axes[0].legend(fontsize=7, frameon=False)
        fig.supxlabel("epoch")
        fig.supylabel("accuracy (%)" if classification else "loss")
        fig.suptitle(f"{factor.name}: mean over seeds with 95% CI bands")
    return save(fig, folder, f"curves-{slug(factor.name)}", f"Learning curves: {factor.name}",
                f"One panel per level of {factor.name}: validation solid, training dashed"
                + (", the baseline's validation curve in black" if analysis.baseline else "")
                + "; mean over seeds with a 95% t-interval band.")


def _positive_means(analysis: StudyAnalysis, names: Iterable[str], keys: Iterable[str]) -> np.ndarray:
    values = np.concatenate([analysis.curves[n][k].mean for n in names for k in keys
                             if k in analysis.curves[n]] or [np.array([1.0])])
    return values[np.isfinite(values) & (values > 0)]


def _spans_decades(analysis: StudyAnalysis, names: Iterable[str], keys: Iterable[str]) -> bool:
    values = _positive_means(analysis, names, keys)
    return len(values) > 0 and values.max() / values.min() > 30


def _smallest_mean(analysis: StudyAnalysis, names: Iterable[str], keys: Iterable[str]) -> float:
    return float(_positive_means(analysis, names, keys).min())


def ranking_figure(analysis: StudyAnalysis, folder: Path) -> FigureFile | None:
    """Every variant's mean primary metric with its 95% CI, best on top, baseline marked."""
    metric = analysis.primary
    scale = 100.0 if metric.percent else 1.0
    rows = [(name, s.metrics[metric.key]) for name, s in analysis.summaries.items()
            if s.metrics[metric.key].mean is not None]
    if not rows:
        return None
    rows.sort(key=lambda r: r[1].mean, reverse=not metric.higher_is_better)  # best ends on top
    with mpl.rc_context(RC):
        colour = colours(analysis)
        lines = sum(_ranking_label(analysis, name).count("\n") + 1 for name, _ in rows)
        fig = _figure(6.5, 1.1 + 0.16 * len(rows) + 0.16 * lines)
        ax = fig.subplots()
        for y, (name, est) in enumerate(rows):
            err = None
            if est.lo is not None and est.hi is not None:
                err = [[scale * (est.mean - est.lo)], [scale * (est.hi - est.mean)]]
            ax.errorbar(scale * est.mean, y, xerr=err, fmt="o", color=colour[name], capsize=3)
        if analysis.baseline in analysis.summaries:
            base = analysis.summaries[analysis.baseline].metrics[metric.key].mean
            if base is not None:
                ax.axvline(scale * base, color=BASELINE_COLOUR, linestyle=":", linewidth=1)
        ax.set_yticks(range(len(rows)), [_ranking_label(analysis, name) for name, _ in rows])
        for tick, (name, _) in zip(ax.get_yticklabels(), rows, strict=True):
            tick.set_color(colour[name])
            if name == analysis.baseline:
                tick.set_fontweight("bold")
        # two lines: one would be wider than the plot beside long variant names, and cut at the edge
        ax.set_xlabel(f"{metric.label}" + (" (%)" if metric.percent else "") + "\nmean and 95% interval")
        ax.grid(axis="x", alpha=0.3)
    return save(fig, folder, "ranking", "Ranking of the variants",
                f"Mean {metric.label} over seeds with 95% intervals (t-intervals; for an accuracy whose "
                f"t-interval would leave 0-100%, the logit-t interval, or the t-interval cut at the bound "
                f"when a seed is at 0% or 100%: the ranking table names which)"
                + ("; the dotted line is the baseline's mean"
                   if analysis.baseline in analysis.summaries else "")
                + ". Descriptive: differences are tested in the paired comparisons.")


def _ranking_label(analysis: StudyAnalysis, name: str) -> str:
    return wrapped(f"{name} (baseline)" if name == analysis.baseline and name != "baseline" else name)


LABEL_WIDTH = 32  # characters per line of a tick label: a grid cell or searched configuration names
# several factors ("learning rate=0.001, batch size=100"), which on one line can leave no room for the plot


def wrapped(label: str, width: int = LABEL_WIDTH) -> str:
    """A long variant name on several lines, broken after its ", " between factors (never inside one)."""
    lines: list[str] = []
    for part in label.split(", "):
        if lines and len(lines[-1]) + 2 + len(part) <= width:
            lines[-1] += ", " + part
        else:
            if lines:
                lines[-1] += ","
            lines.append(part)
    return "\n".join(lines)


def per_class_figure(analysis: StudyAnalysis, folder: Path) -> FigureFile | None:
    """Heatmap of the per-class test accuracy change against the baseline (points)."""
    effects = analysis.per_class
    if effects is None or not effects.variants:
        return None
    matrix = np.array([[np.nan if e.mean is None else 100 * e.mean for e in effects.effects[v]]
                       for v in effects.variants])
    starred = significant_cells(effects)
    limit = colour_limit(matrix)
    with mpl.rc_context(RC):
        n_rows, n_cols = matrix.shape
        lines = sum(wrapped(v).count("\n") + 1 for v in effects.variants)
        # tall enough for the colour bar's label too (about 2.3 in at 9 points)
        fig = _figure(max(5.0, 0.55 * n_cols + 3.0), max(2.8, 0.2 * n_rows + 0.18 * lines + 1.4))
        ax = fig.subplots()
        # The colour scale stops at a robust limit: one collapsed variant's -95 points would wash out
        # every other row; cells beyond it take the end colour (colour bar arrows), keeping their number.
        image = ax.imshow(np.clip(matrix, -limit, limit), cmap="RdBu", norm=TwoSlopeNorm(0.0, -limit, limit),
                          aspect="auto")
        long_names = n_cols > 12 or max(len(c) for c in effects.classes) > 5  # e.g. "automobile"
        ax.set_xticks(range(n_cols), effects.classes, rotation=45 if long_names else 0,
                      ha="right" if long_names else "center")
        ax.set_yticks(range(n_rows), [wrapped(v) for v in effects.variants])
        if n_rows * n_cols <= 400:
            for (r, c), value in np.ndenumerate(matrix):
                if math.isfinite(value):
                    ax.text(c, r, cell_text(value) + ("*" if starred[r, c] else ""), ha="center",
                            va="center", fontsize=7,
                            color="white" if abs(value) > 0.6 * limit else "black")
        ax.set_xlabel("class")
        fig.colorbar(image, ax=ax, label="change in test accuracy (points)", extend="both")
    n_cells = sum(t.testable for tests in effects.tests.values() for t in tests)
    return save(fig, folder, "per-class", "Per-class effects",
                f"Change in per-class test accuracy against the baseline (points), mean over seeds "
                f"paired with the baseline. * marks an exact sign-flip test that survives Holm's "
                f"correction over the {n_cells} tested cells of this map. Colours stop at +/-{limit:.1f} "
                f"points (the 90th percentile of the absolute changes); larger cells take the end colour.")


def significant_cells(effects) -> np.ndarray:
    """Cells (variant x class) whose exact sign-flip test survives Holm over the whole map."""
    return np.array([[bool(t.significant) for t in effects.tests.get(v, ())]
                      or [False] * len(effects.classes) for v in effects.variants], dtype=bool)


def colour_limit(matrix: np.ndarray) -> float:
    """The colour scale's half-range: the 90th percentile of |changes| (robust to one extreme cell)."""
    finite = np.abs(matrix[np.isfinite(matrix)])
    if len(finite) == 0:
        return 1.0
    limit = float(np.percentile(finite, 90))
    return limit if limit > 0 else (float(finite.max()) or 1.0)


def cell_text(value: float) -> str:
    """'+1.2' / '-0.7' / '0.0': rounding first, so a tiny negative never prints as '-0.0'."""
    rounded = round(value, 1) + 0.0
    return "0.0" if rounded == 0 else f"{rounded:+.1f}"


def confusion_figure(analysis: StudyAnalysis, folder: Path) -> FigureFile | None:
    """Row-normalised test confusion matrices of the baseline and the best variant (summed over seeds)."""
    names = list(analysis.confusion)
    if not names:
        return None
    classes = analysis.per_class.classes if analysis.per_class else None
    with mpl.rc_context(RC):
        fig = _figure(4.4 * len(names), 4.0)
        axes = fig.subplots(1, len(names), squeeze=False)[0]
        for ax, name in zip(axes, names, strict=True):
            counts = analysis.confusion[name].astype(float)
            share = 100 * counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
            ax.imshow(share, cmap="Blues", vmin=0, vmax=100)
            k = share.shape[0]
            labels = classes if classes and len(classes) == k else [str(i) for i in range(k)]
            long_labels = k > 12 or max((len(str(label)) for label in labels), default=0) > 3
            ax.set_xticks(range(k), labels, rotation=45 if long_labels else 0,
                          ha="right" if long_labels else "center")
            ax.set_yticks(range(k), labels)
            if k <= 12:
                for (r, c), value in np.ndenumerate(share):
                    if value >= 0.5:
                        ax.text(c, r, f"{value:.0f}", ha="center", va="center", fontsize=7,
                                color="white" if value > 60 else "black")
            role = "baseline" if name == analysis.baseline else "highest mean"
            ax.set_title(role if name == role else f"{role}: {name}")
            ax.set_xlabel("predicted")
            ax.set_ylabel("true")
    return save(fig, folder, "confusion", "Confusion matrices",
                "Test-set confusion matrices of " + ("the baseline and " if analysis.baseline else "")
                + f"the variant with the highest mean {analysis.primary.label}, summed over seeds, each row "
                "as a percentage of its true class.")


def cost_figure(analysis: StudyAnalysis, folder: Path) -> FigureFile | None:
    """The primary (validation) metric against params, FLOPs and training seconds per trial, with each
    Pareto front. Variants sharing one cost are spread sideways a little so none hides another."""
    metric = analysis.primary
    scale = 100.0 if metric.percent else 1.0
    axes_spec = [("params", "parameters"), ("flops", "forward FLOPs per example"),
                 ("train_seconds", "training seconds per trial")]
    axes_spec = [(k, label) for k, label in axes_spec
                 if sum(getattr(p, k) is not None and p.score is not None for p in analysis.cost) >= 1]
    if not axes_spec:
        return None
    with mpl.rc_context(RC):
        colour = colours(analysis)
        fig = _figure(4.2 * len(axes_spec), 4.2)
        axes = fig.subplots(1, len(axes_spec), squeeze=False)[0]
        handles: dict[str, object] = {}
        for ax, (key, label) in zip(axes, axes_spec, strict=True):
            points = [p for p in analysis.cost if getattr(p, key) is not None and p.score is not None]
            values = [getattr(p, key) for p in points]
            log = min(values) > 0 and max(values) / min(values) > 20
            x = jittered(values, log=log)
            for p, xi in zip(points, x, strict=True):
                est = analysis.summaries[p.variant].metrics[metric.key]
                err = None if est.lo is None else \
                    [[scale * (est.mean - est.lo)], [scale * (est.hi - est.mean)]]
                handles[p.variant] = ax.errorbar(xi, scale * p.score, yerr=err, fmt="o",
                                                 color=colour[p.variant], capsize=2)
            where = {p.variant: xi for p, xi in zip(points, x, strict=True)}
            front = [next(p for p in points if p.variant == v) for v in analysis.pareto.get(key, ())]
            if len(front) > 1:
                ax.plot([where[p.variant] for p in front], [scale * p.score for p in front],
                        color="0.5", linestyle="-", linewidth=1, drawstyle="steps-post", zorder=0)
            ring = ax.scatter([where[p.variant] for p in front], [scale * p.score for p in front], s=140,
                              facecolors="none", edgecolors="0.4", linewidths=1, zorder=0)
            handles.setdefault("Pareto front", ring)
            if log:
                ax.set_xscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel(metric.label + (" (%)" if metric.percent else ""))
            ax.grid(alpha=0.3)
        names = [v.name for v in analysis.variants if v.name in handles] + ["Pareto front"]
        fig.legend([handles[n] for n in names if n in handles], [n for n in names if n in handles],
                   loc="outside lower center", ncols=min(4, len(names)), fontsize=7, frameon=False)
    return save(fig, folder, "cost", "Validation accuracy against cost" if metric.percent else
                "Validation metric against cost",
                f"Mean {metric.label} (95% CI) against parameters, forward FLOPs and training seconds per "
                f"trial; the Pareto-optimal variants (chosen on validation, like everything else) are "
                f"circled and joined by the grey step line (nothing cheaper is better). Variants with the "
                f"same cost are spread sideways by up to {100 * JITTER:.0f}% of the axis so that none hides "
                f"another; one legend serves every panel.")


JITTER = 0.02  # share of the axis range that variants with one cost are spread over, each side


def jittered(values: list[float], *, log: bool) -> list[float]:
    """Positions for points sharing an x: spread symmetrically around it (multiplicatively on a log axis)."""
    if not values:
        return []
    scaled = np.log10(values) if log else np.asarray(values, dtype=float)
    span = float(np.ptp(scaled)) or (abs(float(scaled[0])) or 1.0)
    out = scaled.astype(float).copy()
    for x in np.unique(scaled):
        same = np.nonzero(scaled == x)[0]
        if len(same) > 1:
            out[same] = x + np.linspace(-JITTER, JITTER, len(same)) * span
    return list(10 ** out) if log else list(out)
