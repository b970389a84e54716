"""The report as a document of sections (text, tables, figures): HTML and Markdown render the same one."""

from __future__ import annotations

from dataclasses import dataclass, field

from hyperlab.analysis.diagnostics import (
    COLLAPSE_ACCURACY_DROP,
    COLLAPSE_LOSS_RISE,
    OVERFIT_MIN_EPOCHS_AFTER,
)
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.analysis.stats import ALPHA, CONFIDENCE, POWER, Estimate, family_size, min_seeds_to_detect
from hyperlab.report import fmt
from hyperlab.report.figures import FigureFile, slug
from hyperlab.report.findings import Findings


@dataclass
class Table:
    headers: list[str]
    rows: list[list[str]]
    caption: str = ""


@dataclass
class Section:
    title: str
    anchor: str
    paragraphs: list[str] = field(default_factory=list)
    bullets: list[str] = field(default_factory=list)
    tables: list[Table] = field(default_factory=list)
    figures: list[FigureFile] = field(default_factory=list)
    subsections: list[Section] = field(default_factory=list)


@dataclass
class Document:
    title: str
    meta: list[str]
    warnings: list[str]
    sections: list[Section]


def results_table(analysis: StudyAnalysis) -> Table:
    """Per variant: seeds used, primary and test metric with CI, cost."""
    primary, test = analysis.primary, analysis.test_metric
    rows = []
    for v in analysis.variants:
        s = analysis.summaries[v.name]
        if not v.budget_ok:
            rows.append([v.name, "0", "skipped for budget", v.budget_reason or "", fmt.count(v.params), ""])
            continue
        missing = s.n_total - s.n_used
        used = f"{s.n_used}" + (f" (+{missing} excluded)" if missing else "")
        rows.append([display_name(analysis, v.name), used,
                     fmt.mean_ci(primary, s.metrics[primary.key]),
                     fmt.mean_ci(test, s.metrics.get(test.key, _nothing())), fmt.count(v.params),
                     fmt.seconds(s.metrics["seconds_per_epoch"].mean)])
    return Table(["variant", "seeds", primary.label, test.label, "params", "s / epoch"], rows)


def display_name(analysis: StudyAnalysis, name: str) -> str:
    """The variant's name, marked when it is the reference (unless its name already says so)."""
    return f"{name} (baseline)" if name == analysis.baseline and name != "baseline" else name


def _nothing() -> Estimate:
    return Estimate(None, None, None, None, 0)


def comparisons_table(analysis: StudyAnalysis) -> Table:
    rows = []
    for c in analysis.comparisons:
        metric = analysis.primary if c.metric == analysis.primary.key else analysis.test_metric
        detectable = c.sensitivity.detectable
        rows.append([c.variant, metric.label,
                     f"{fmt.shift(metric, c)} ({fmt.ci(metric, c.difference, as_delta=True)})",
                     str(c.n), c.test or "none", _tost(c), fmt.p_value(c.p_value),
                     fmt.p_value(c.p_holm), fmt.number(c.effect_size, 2),
                     fmt.delta(metric, detectable).lstrip("+") if detectable is not None else fmt.MISSING,
                     fmt.seeds_needed(c.sensitivity.seeds_needed), fmt.verdict(c)])
    return Table(["variant", "metric", "difference vs baseline (95% CI)", "n", "test", "TOST p (Holm)", "p",
                  "Holm p",
                  "d_z", f"detectable at {int(POWER * 100)}% power", "seeds to detect the difference",
                  "verdict"], rows,
                 caption=comparisons_caption(analysis))


def _tost(c) -> str:
    """The equivalence test's p and its Holm-adjusted p, or n/a."""
    eq = c.equivalence
    if eq is None or eq.p_value is None:
        return fmt.MISSING
    return f"{fmt.p_value(eq.p_value)} ({fmt.p_value(eq.p_holm)})"


def comparisons_caption(analysis: StudyAnalysis) -> str:
    power = f"{int(POWER * 100)}%"
    m = family_size(analysis.comparisons)
    return (f"Differences are variant minus baseline on the same seed. {holm_family(analysis)} The CIs are "
            f"unadjusted 95% t-intervals of the mean difference; the verdict uses the Holm-adjusted p "
            f"(family-wise alpha {ALPHA}); with fewer seeds than the exact test needs to reach it "
            f"({min_seeds_to_detect(m)} in this family) the verdict is \"too few seeds to test\". "
            f"\"Detectable\": the smallest difference found with {power} power at this spread and n, at "
            f"the family's alpha {ALPHA} / {m} (Holm's first step; statsmodels TTestPower, the t "
            f"approximation of the exact test); \"seeds to detect\": the seeds the observed difference would "
            f"need, with the range over the 95% chi-square CI of the differences' SD."
            + _equivalence(analysis))


def _equivalence(analysis: StudyAnalysis) -> str:
    margins = {c.equivalence.margin for c in analysis.comparisons if c.equivalence is not None}
    if not margins:
        return ""
    run = sum(c.equivalence is not None and c.equivalence.p_value is not None for c in analysis.comparisons)
    return (f" Equivalence: TOST (statsmodels ttost_paired) against the study's smallest_effect "
            f"({fmt.margin(analysis.primary, next(iter(margins)))}), Holm-adjusted over its own family of "
            f"{run} TOSTs; \"equivalent\" when that p is below {ALPHA}.")


def holm_family(analysis: StudyAnalysis) -> str:
    """The Holm family, stated: which tests are corrected together."""
    m = family_size(analysis.comparisons)
    extra = int(analysis.study.get("holm_extra") or 0)
    searched = (f", plus {extra} searched configurations that were eligible but not confirmed (counted "
                "as p = 1)") if extra else ""
    return (f"Holm family (declared before any result): every comparison of a variant with the baseline "
            f"on the {analysis.primary.label} and on the {analysis.test_metric.label}{searched}, {m} "
            f"tests in all, each an exact sign-flip permutation test (scipy.stats.permutation_test, "
            f"all 2^n sign patterns); those without a p (fewer than 3 paired seeds, or no difference on "
            f"any seed) count as p = 1. With n seeds its smallest p is 2 / 2^n, so no difference can be "
            f"declared below {min_seeds_to_detect(m)} seeds.")

def diagnostics_table(analysis: StudyAnalysis) -> Table:
    rows = []
    classification = analysis.task == "classification"
    for v in analysis.variants:
        s = analysis.summaries[v.name]
        if s.n_used == 0:
            continue
        m = s.metrics
        onset = "none" if s.overfit_seeds == 0 else \
            f"{fmt.epoch(m['overfit_onset'].mean)} ({s.overfit_seeds}/{s.n_used})"
        if s.undetectable_seeds:
            onset += f"; undetectable on {s.undetectable_seeds}/{s.n_used}"
        if s.collapsed_seeds:
            onset += f"; collapsed on {s.collapsed_seeds}/{s.n_used}"
        if s.noise_seeds:
            onset += f"; within noise on {s.noise_seeds}/{s.n_used}"
        def gap(e: Estimate) -> str:
            return fmt.delta(analysis.primary, e.mean, unit=False) if classification else fmt.number(e.mean)

        def reached(e: Estimate, used: int = s.n_used) -> str:
            if e.n == 0 and used:
                return "not reached"
            return fmt.epoch(e.mean) + (f" ({e.n}/{used})" if e.n < used else "")

        rows.append([
            v.name, fmt.epoch(m["best_epoch_accuracy" if classification else "best_epoch_loss"].mean),
            onset, gap(m["gap_at_best"]), gap(m["gap_at_last"]),
            fmt.epoch(m["epochs_to_95"].mean) if classification else "n/a",
            fmt.seconds(m["seconds_to_95"].mean) if classification else "n/a",
            reached(m["epochs_to_baseline"]) if classification else "n/a",
            fmt.number(None if m["tail_std"].mean is None else
                       (100 * m["tail_std"].mean if classification else m["tail_std"].mean), 2),
            fmt.number(m["loss_spikes"].mean, 2), str(s.n_diverged),
        ])
    gap_unit = "train - val accuracy, points" if classification else "val - train loss"
    return Table(["variant", "best epoch", "overfitting onset (seeds)", f"gap at best ({gap_unit})",
                  "gap at last", "epochs to 95%", "time to 95%", "epochs to baseline best (seeds)",
                  "tail std" + (" (points)" if classification else ""), "loss spikes", "diverged"], rows,
                 caption="Descriptive (no test): means over the usable seeds (n per variant in the ranking "
                         "table); definitions in the Methods section. Onsets: the seeds with an onset, "
                         "those where the rule cannot apply (undetectable) and those whose training "
                         "collapsed (not overfitting) are counted apart.")


def excluded_table(analysis: StudyAnalysis) -> Table | None:
    if not analysis.excluded:
        return None
    return Table(["variant", "seed", "status", "reason", "trial"],
                 [[e.variant, str(e.seed), e.status, e.reason, e.trial_key[:12]] for e in analysis.excluded])


def cost_table(analysis: StudyAnalysis) -> Table:
    metric = analysis.primary  # the front is chosen on validation, like every other choice
    rows = []
    for p in analysis.cost:
        fronts = (("params", "params"), ("FLOPs", "flops"), ("time", "train_seconds"))
        on = [name for name, front in fronts if p.variant in analysis.pareto.get(front, ())]
        rows.append([p.variant, fmt.count(p.params), fmt.count(p.flops), fmt.seconds(p.seconds_per_epoch),
                     fmt.seconds(p.train_seconds), fmt.value(metric, p.score), ", ".join(on) or "-"])
    return Table(["variant", "params", "FLOPs / example", "s / epoch", "s / trial", metric.label,
                  "on the Pareto front of"], rows)


METHODS = [
    "Best epoch: the epoch of maximum validation accuracy (minimum validation loss for regression).",
    "Overfitting onset: the epoch of minimum validation loss, provided at least 2 evaluated epochs "
    "follow it, the median validation loss after it is at least 5% above the minimum, and the "
    "training loss at the last epoch is at least 5% below its value at that epoch; otherwise none. "
    f"\"Undetectable\" when fewer than {OVERFIT_MIN_EPOCHS_AFTER} evaluated epochs follow the minimum "
    "(the rule cannot apply).",
    f"Collapse: training accuracy ends more than {100 * COLLAPSE_ACCURACY_DROP:.0f} points below its peak "
    f"(regression: training loss ends more than {100 * COLLAPSE_LOSS_RISE:.0f}% above its minimum). A "
    "collapsed trial is diagnosed as collapsed, never as overfitting.",
    "Generalization gap: training minus validation accuracy (points) at the best and at the last "
    "epoch; for regression, validation minus training loss.",
    "Convergence speed: the first epoch (and training seconds up to it) at which validation accuracy "
    "reaches 95% of the trial's own best, and the baseline's mean best.",
    "Instability: the sample standard deviation of validation accuracy (validation loss for "
    "regression) over the last 10% of evaluated epochs (at least 3); loss spikes: epochs whose "
    "training loss rose more than 10% above the previous epoch's.",
    "Divergence: the engine stopped the trial as diverged, a loss became non-finite, or the final "
    "training loss exceeds twice the first epoch's. Diverged and failed trials are excluded from the "
    "means and counted.",
    f"Statistics: mean over seeds with a {int(CONFIDENCE * 100)}% t-interval (scipy.stats.t); for "
    "accuracies, whose t-interval can leave 0-100%, the t-interval of the logits back-transformed "
    "(\"logit-t\") when it would, or the t-interval cut at the bound when a seed is at 0% or 100%. "
    "Accuracies are counts of examples: with the set's size known, ties are exact. "
    "Variants are compared with the baseline on the same seeds by the two-sided exact sign-flip "
    "permutation test of the mean per-seed difference (scipy.stats.permutation_test, "
    "permutation_type='samples', all 2^n sign patterns up to n = 20; Good 2005, Permutation, "
    "Parametric and Bootstrap Tests of Hypotheses), with a t-interval beside it; with Holm's step-down "
    "correction (Holm 1979; statsmodels) over one family holding every comparison on every compared "
    "metric; below the seeds at which the family's alpha is reachable the verdict is \"too few seeds to "
    "test\". Equivalence, when the study sets smallest_effect: two one-sided t-tests (TOST, Schuirmann "
    "1987; statsmodels ttost_paired), Holm-adjusted over their own family. Effect size is Cohen's d_z "
    "(mean difference over the standard deviation of the differences). With fewer than 3 paired seeds "
    "no test is run. Sensitivity: statsmodels' TTestPower at the family's alpha (alpha / m), with a "
    "range of seeds needed from the 95% chi-square CI of the differences' SD.",
    "Which trials count: completed and early-stopped trials with recorded epochs that did not diverge; "
    "failed, diverged and unfinished (pending, running, interrupted) trials are excluded and listed "
    "with their reason; variants over budget are never trained. A trial shared by two variants counts "
    "once under each.",
    "Times: wall-clock seconds on the machine that trained the trial; s / epoch covers training and "
    "validation, s / trial also the final test evaluation. A trial trained with others as one stacked "
    "model is charged its share (1/K of the stack's time for K trials), so times compare with trials "
    "trained alone. Accuracies are fractions shown as percentages; losses are the configured loss.",
]


def methods_section(selection: str | None = None) -> Section:
    # Complete here: a report is read where hyperlab's docs are not (a wheel ships no docs/).
    paragraphs = ["These are the complete definitions of every number in this report."]
    if selection:  # a study file selects its planned trials, a study name everything stored under it
        paragraphs.append(f"Trials reported: {selection}.")
    return Section("Methods", "methods", bullets=list(METHODS), paragraphs=paragraphs)


def how_to_read(analysis: StudyAnalysis) -> Section:
    """The plain-words box at the top: what is tested, what is descriptive, where the numbers come from."""
    primary, test = analysis.primary, analysis.test_metric
    return Section("How to read this report", "how-to-read", bullets=[
        f"Tested: each variant against the baseline on the same seeds, on the {primary.label} and the "
        f"{test.label}. Every such sentence gives the difference, its 95% CI (not adjusted for multiple "
        f"comparisons), the test, the Holm-adjusted p and n, the number of paired seeds. It says "
        f"\"differs\" only when the Holm-adjusted p is below {ALPHA}; \"too few seeds to test (needs at "
        f"least N)\" when n is below the N at which the exact test can reach that at all; \"equivalent "
        f"within +-x\" when the study declares a smallest_effect and its TOST is below {ALPHA} after Holm; "
        f"otherwise \"no difference detected\", "
        f"which is not evidence of no difference: the sentence then says what the study could have "
        f"detected ({int(POWER * 100)}% power) and how many seeds the observed difference would need.",
        holm_family(analysis),
        "Descriptive: anything labelled so (variant means, the ordering of factors, overfitting, collapse, "
        "speed and volatility) is not tested; it gives its n and spread.",
        f"Where the numbers come from: the {primary.label} is the best over the evaluated epochs and "
        f"chooses the best variant and the Pareto front (validation data only); the {test.label} is from "
        "the final epoch's weights (the held-out test set is never used to choose).",
        "Accuracies are counts of examples of a fixed set, so seeds can tie exactly; a difference that is "
        "the same on every seed has no variance: no CI and never an effect size (the exact test treats it "
        "like any other).",
    ])


def findings_sections(findings: Findings, curve_figures: dict[str, FigureFile]) -> list[Section]:
    return [Section(f.factor, "factor-" + fmt_anchor(f.factor), paragraphs=[" ".join(f.sentences)],
                    figures=[curve_figures[f.factor]] if f.factor in curve_figures else [])
            for f in findings.factors]


def fmt_anchor(text: str) -> str:
    return slug(text)
