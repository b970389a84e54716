"""Written findings: sentences generated from the analysis numbers (templates, no language model).

Every sentence that compares carries its number, its 95% CI, the test and the number of seeds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from hyperlab.analysis.results import FactorInfo, MetricInfo, StudyAnalysis, VariantInfo
from hyperlab.analysis.stats import Estimate, PairedComparison
from hyperlab.report import fmt

NOTABLE_RATIO = 1.5  # volatility / speed ratios below this are not worth a clause
MAX_LEVEL_SENTENCES = 3  # factors with more levels get a best/worst summary instead


@dataclass(frozen=True)
class FactorFinding:
    """The written paragraph for one factor and the number it is ranked by."""

    factor: str
    sentences: tuple[str, ...]
    strongest: str | None  # the variant with the largest |effect size| (or |difference|)
    effect_size: float | None  # Cohen's d_z of that variant (primary metric)
    difference: Estimate | None  # its difference on the primary metric
    comparison: PairedComparison | None


@dataclass(frozen=True)
class Findings:
    """The summary at the top, the paragraph per factor and, for grids, one sentence per factor's
    main effect."""

    summary: tuple[str, ...]
    factors: tuple[FactorFinding, ...]  # ranked: largest effect first
    main_effects: tuple[str, ...] = ()


def write_findings(analysis: StudyAnalysis) -> Findings:
    """All written findings of the report."""
    paragraphs = [_factor_finding(analysis, f) for f in analysis.factors]
    ranked = sorted(paragraphs, key=_rank_key)
    return Findings(summary=tuple(_summary(analysis, ranked)), factors=tuple(ranked),
                    main_effects=tuple(_main_effect_sentence(analysis, m) for m in analysis.main_effects))


def _main_effect_sentence(analysis: StudyAnalysis, effect) -> str:
    metric = analysis.primary
    scored = [(label, e) for label, e in zip(effect.levels, effect.estimates, strict=True)
              if e.mean is not None]
    if not scored:
        return f"{effect.factor}: no finished trials yet."
    sign = 1 if metric.higher_is_better else -1
    best = max(scored, key=lambda le: sign * le[1].mean)
    worst = min(scored, key=lambda le: sign * le[1].mean)
    parts = "; ".join(f"{label}: {fmt.mean_ci(metric, e)}" for label, e in scored)
    high, low = ("highest", "lowest") if metric.higher_is_better else ("lowest", "highest")
    return (f"Averaged over the other factors, {effect.factor} = {best[0]} gave the {high} {metric.label} "
            f"and {effect.factor} = {worst[0]} the {low} ({parts}; {best[1].n} seeds).")


def _rank_key(finding: FactorFinding) -> tuple:
    dz = finding.effect_size
    diff = finding.difference.mean if finding.difference and finding.difference.mean is not None else 0.0
    return (dz is None, -abs(dz) if dz is not None else -abs(diff))


# --- per factor ---------------------------------------------------------------------------------
def _factor_finding(analysis: StudyAnalysis, factor: FactorInfo) -> FactorFinding:
    primary = analysis.primary
    comparisons = [(analysis.variant(name), analysis.comparison(name, primary.key))
                   for name in factor.variants]
    tested = [(v, c) for v, c in comparisons if c is not None and c.difference.mean is not None]
    skipped = [v for v, _ in comparisons if not v.budget_ok]
    sentences: list[str] = []
    if not tested:
        reason = "was skipped for budget" if skipped else "has no finished trials yet"
        sentences.append(f"The factor {factor.name} {reason}, so there is nothing to compare.")
        return FactorFinding(factor.name, tuple(sentences), None, None, None, None)
    if len(tested) <= MAX_LEVEL_SENTENCES:
        sentences += [_level_sentence(analysis, v, c) for v, c in tested]
    else:
        sentences += _many_levels(analysis, factor, tested)
    sentences.append(_test_set_sentence(analysis, tested))
    if skipped:
        sentences.append(f"Not trained (over budget): {', '.join(_level(v) for v in skipped)}.")
    strongest_v, strongest_c = max(tested, key=lambda vc: _strength(vc[1]))
    return FactorFinding(factor.name, tuple(sentences[:4]), strongest_v.name,
                         strongest_c.effect_size, strongest_c.difference, strongest_c)


def _strength(comparison: PairedComparison) -> tuple[bool, float]:
    if comparison.effect_size is not None:
        return True, abs(comparison.effect_size)
    return False, abs(comparison.difference.mean or 0.0)


def _level(variant: VariantInfo) -> str:
    """How a level is named in a sentence: its label, or the whole cell name for a grid cell."""
    if variant.factor and ", " in variant.factor:
        return variant.name
    return variant.level or variant.name


def _change_phrase(variant: VariantInfo, factor_name: str) -> str:
    """'Raising the learning rate from 0.01 to 0.05' from the config keys that differ."""
    changes = variant.changes
    name = factor_name if factor_name.startswith("the ") else f"the {factor_name}"
    if len(changes) == 1:
        before, after = changes[0].baseline, changes[0].value
        numeric = all(isinstance(x, int | float) and not isinstance(x, bool) for x in (before, after))
        verb = ("Raising" if after > before else "Lowering") if numeric else "Changing"
        before_text, after_text = fmt.config_value(before), fmt.config_value(after)
        if len(before_text) + len(after_text) > 60:  # e.g. whole layer lists: the level's label reads better
            return f"{verb} {name} to {_level(variant)}"
        key = changes[0].key.rsplit(".", 1)[-1]
        if variant.level not in (None, after_text) and key not in factor_name:
            # A labelled level of a factor named for what it means ("longer training": epochs 2 -> 15):
            # "Raising the longer training" would misname the key, so the key is named beside the label.
            return f"{verb} {key} from {before_text} to {after_text} ({factor_name}: {variant.level})"
        return f"{verb} {name} from {before_text} to {after_text}"
    if changes:  # several keys at once: name the level, then each key's change
        keys = "; ".join(f"{c.key.rsplit('.', 1)[-1]} {fmt.config_value(c.baseline)} -> "
                         f"{fmt.config_value(c.value)}" for c in changes)
        return f"Changing {name} to {_level(variant)} ({keys})"
    return f"Setting {name} to {_level(variant)}"


def _difference_clause(metric: MetricInfo, comparison: PairedComparison) -> str:
    d = comparison.difference
    seeds = f"{comparison.n} seed{'s' if comparison.n != 1 else ''}"
    if d.n >= 2 and d.std == 0.0:  # e.g. a small validation set where every seed hits the same count
        if d.mean == 0.0:
            return f"left the {metric.label} unchanged on every seed ({seeds}; no spread, so no test)"
        return (f"changed the {metric.label} by {fmt.delta(metric, d.mean)} on every seed alike "
                f"({seeds}; no spread, so no CI or test)")
    return (f"changed the {metric.label} by {fmt.delta(metric, d.mean)} "
            f"({fmt.ci(metric, d, as_delta=True)}; {fmt.test_clause(comparison)})")


def _level_sentence(analysis: StudyAnalysis, variant: VariantInfo, comparison: PairedComparison) -> str:
    clauses = [_difference_clause(analysis.primary, comparison)]
    clauses += _diagnostic_clauses(analysis, variant.name)
    head = _change_phrase(variant, variant.factor or "variant")
    if len(clauses) <= 2:
        return f"{head} {' and '.join(clauses)}."
    return f"{head} {', '.join(clauses[:-1])}, and {clauses[-1]}."


def _mean(analysis: StudyAnalysis, variant: str, key: str) -> float | None:
    summary = analysis.summaries.get(variant)
    return None if summary is None else summary.metrics[key].mean


def _diagnostic_clauses(analysis: StudyAnalysis, variant: str) -> list[str]:
    """Volatility, overfitting onset and speed, each only when it changed notably."""
    base = analysis.baseline
    clauses: list[str] = []
    curve = "validation accuracy" if analysis.task == "classification" else "validation loss"
    ratio = _ratio(_mean(analysis, variant, "tail_std"), _mean(analysis, base, "tail_std"))
    if ratio is not None and ratio >= NOTABLE_RATIO:
        clauses.append(f"made {curve} {ratio:.1f}x more volatile over the last 10% of training")
    elif ratio is not None and ratio <= 1 / NOTABLE_RATIO:
        clauses.append(f"made {curve} {1 / ratio:.1f}x steadier over the last 10% of training")
    onset = _onset_clause(analysis, variant)
    if onset:
        clauses.append(onset)
    own, ref = _mean(analysis, variant, "epochs_to_95"), _mean(analysis, base, "epochs_to_95")
    speed = _ratio(own, ref)
    if speed is not None and (speed >= NOTABLE_RATIO or speed <= 1 / NOTABLE_RATIO):
        clauses.append(f"reached 95% of its best validation accuracy after {fmt.epoch(own)} epochs "
                       f"instead of {fmt.epoch(ref)}")
    return clauses


MIN_SPREAD = 1e-4  # a tail spread below this (0.01 accuracy points) is "flat": no ratio is stated


def _ratio(a: float | None, b: float | None) -> float | None:
    """a / b, or None when either is missing or flat (a ratio to ~0 spread is rounding noise)."""
    if a is None or b is None or not (math.isfinite(a) and math.isfinite(b)):
        return None
    if a < MIN_SPREAD or b < MIN_SPREAD:
        return None
    return a / b


def _onset_clause(analysis: StudyAnalysis, variant: str) -> str | None:
    own, base = analysis.summaries[variant], analysis.summaries.get(analysis.baseline or "")
    if base is None or own.n_used == 0 or base.n_used == 0:
        return None
    own_onset, base_onset = own.metrics["overfit_onset"].mean, base.metrics["overfit_onset"].mean
    own_share = "" if own.overfit_seeds == own.n_used else f" ({own.overfit_seeds} of {own.n_used} seeds)"
    base_share = "" if base.overfit_seeds == base.n_used else \
        f" ({base.overfit_seeds} of {base.n_used} seeds)"
    if own_onset is not None and base_onset is not None:
        if round(own_onset) == round(base_onset):
            return None
        return (f"moved the onset of overfitting from epoch {fmt.epoch(base_onset)}{base_share} "
                f"to epoch {fmt.epoch(own_onset)}{own_share}")
    if own_onset is not None:
        return f"made the model overfit from epoch {fmt.epoch(own_onset)}{own_share}, where the baseline " \
               f"did not"
    if base_onset is not None:
        return f"removed the overfitting the baseline showed from epoch {fmt.epoch(base_onset)}{base_share}"
    return None


def _many_levels(analysis: StudyAnalysis, factor: FactorInfo, tested) -> list[str]:
    metric = analysis.primary
    sign = 1 if metric.higher_is_better else -1
    ordered = sorted(tested, key=lambda vc: sign * vc[1].difference.mean, reverse=True)
    (best_v, best_c), (worst_v, worst_c) = ordered[0], ordered[-1]
    n_sig = sum(c.significant for _, c in tested)
    sentences = [
        f"Of the {len(tested)} levels of {factor.name}, {_level(best_v)} did best: it "
        f"{_difference_clause(metric, best_c)}; {_level(worst_v)} did worst: it "
        f"{_difference_clause(metric, worst_c)}.",
        f"{n_sig} of the {len(tested)} differences survive Holm correction.",
    ]
    clauses = _diagnostic_clauses(analysis, best_v.name)
    if clauses:
        sentences.append(f"Compared with the baseline, {_level(best_v)} {' and '.join(clauses)}.")
    return sentences


def _test_set_sentence(analysis: StudyAnalysis, tested) -> str:
    metric = analysis.test_metric
    parts = []
    for v, _ in tested:
        c = analysis.comparison(v.name, metric.key)
        if c is None or c.difference.mean is None:
            continue
        parts.append(f"{fmt.delta(metric, c.difference.mean)} "
                     f"({fmt.ci(metric, c.difference, as_delta=True)}) for {_level(v)}")
    if not parts:
        return f"No {metric.label} is recorded for these variants."
    if len(parts) > MAX_LEVEL_SENTENCES:
        parts = parts[:MAX_LEVEL_SENTENCES] + [f"{len(parts) - MAX_LEVEL_SENTENCES} more in the table"]
    joined = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    word = "change was" if len(parts) == 1 else "changes were"
    where = "test set" if analysis.study.get("validation_is_test") else "held-out test set"
    return f"On the {where} the {word} {joined}."


# --- summary ------------------------------------------------------------------------------------
def _summary(analysis: StudyAnalysis, ranked: list[FactorFinding]) -> list[str]:
    metric = analysis.primary
    lines = []
    n_trials = sum(s.n_used for s in analysis.summaries.values())
    test = analysis.comparisons[0].test if analysis.comparisons else "paired t-test"
    n_variants = len(analysis.variants)
    if n_variants == 1:  # a single recipe (no factor): nothing to compare
        lines.append(f"One variant, {n_trials} usable trial{'s' if n_trials != 1 else ''}; no factor "
                     "is varied, so there is no comparison.")
    else:
        lines.append(f"{n_variants} variants, {n_trials} usable trials, compared with "
                     f"'{analysis.baseline}' paired by seed ({test}, Holm-corrected).")
    for name, role in ((analysis.baseline, "The baseline"), (analysis.best_variant, "The best variant")):
        if name is None or (role == "The best variant" and name == analysis.baseline):
            continue
        s = analysis.summaries[name]
        test = s.metrics.get(analysis.test_metric.key)
        who = role if name == "baseline" else f"{role} ({name})"
        lines.append(f"{who} reached a {metric.label} of "
                     f"{fmt.mean_ci(metric, s.metrics[metric.key])} over {s.n_used} "
                     f"seed{'s' if s.n_used != 1 else ''}"
                     + (f"; {analysis.test_metric.label} {fmt.mean_ci(analysis.test_metric, test)}."
                        if test is not None and test.mean is not None else "."))
    if analysis.best_variant == analysis.baseline and analysis.baseline is not None and n_variants > 1:
        lines.append("No variant beat the baseline on average.")
    primary_tests = [c for c in analysis.comparisons if c.metric == metric.key]
    significant = [c for c in primary_tests if c.significant]
    if significant:
        lines.append("Differences in the " + metric.label + " that survive Holm correction: " + "; ".join(
            f"{c.variant} ({fmt.delta(metric, c.difference.mean)}, Holm-adjusted {fmt.p_phrase(c.p_holm)})"
            for c in significant) + ".")
    elif any(c.testable for c in primary_tests):
        n_seeds = max(c.n for c in primary_tests)
        lines.append(f"No difference in the {metric.label} survives Holm correction at {n_seeds} seeds.")
    effects = [f for f in ranked if f.comparison is not None]
    if effects:
        described = []
        for f in effects:
            dz = "d_z " + fmt.number(f.effect_size, 2) if f.effect_size is not None else "no d_z"
            described.append(f"{f.factor} ({dz}; {fmt.delta(metric, f.difference.mean)} "
                             f"for {analysis.variant(f.strongest).level or f.strongest})")
        lines.append("Factors ranked by the effect size (Cohen's d_z) of their strongest level: "
                     + "; ".join(described) + ".")
    return lines
