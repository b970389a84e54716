"""Written findings: sentences generated from the analysis numbers (templates, no language model).

Every sentence is one of two kinds (docs/report.md, "Written findings"): a tested comparison with
the baseline (difference, 95% CI, test, Holm-adjusted p, n), worded "differs" only when it survives
Holm's correction and "no difference detected" otherwise; or a descriptive observation labelled
"descriptive", with its n and spread.
"""

from __future__ import annotations

from dataclasses import dataclass

from hyperlab.analysis.diagnostics import COLLAPSE_ACCURACY_DROP, COLLAPSE_LOSS_RISE
from hyperlab.analysis.results import FactorInfo, StudyAnalysis, VariantInfo
from hyperlab.analysis.stats import Estimate, PairedComparison, family_size
from hyperlab.report import fmt
from hyperlab.report.grid import grid_sentences

MAX_LEVEL_SENTENCES = 3  # factors with more levels get a largest / smallest summary instead
SURVIVES = "\u2020"  # dagger: the difference survives Holm's correction


@dataclass(frozen=True)
class FactorFinding:
    """The written paragraph for one factor and the number it is ranked by."""

    factor: str
    sentences: tuple[str, ...]
    strongest: str | None  # the variant with the largest |paired difference| on the primary metric
    effect_size: float | None  # Cohen's d_z of that variant (None without a t-test)
    difference: Estimate | None  # its difference on the primary metric
    comparison: PairedComparison | None


@dataclass(frozen=True)
class Findings:
    """The summary at the top, the paragraph per factor and, for grids, one sentence per factor's
    main effect."""

    summary: tuple[str, ...]
    factors: tuple[FactorFinding, ...]  # ranked: largest absolute paired difference first
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
    parts = "; ".join(f"{label}: {fmt.mean_ci_n(metric, e)}" for label, e in scored)
    high, low = ("highest", "lowest") if metric.higher_is_better else ("lowest", "highest")
    return (f"Descriptive (averaged over the other factors, no test): {effect.factor} = {best[0]} gave the "
            f"{high} mean {metric.label} and {effect.factor} = {worst[0]} the {low} ({parts}).")


def _rank_key(finding: FactorFinding) -> tuple:
    """Largest absolute paired difference first; factors with nothing to compare last."""
    diff = finding.difference.mean if finding.difference and finding.difference.mean is not None else None
    return (diff is None, -abs(diff) if diff is not None else 0.0)


# --- per factor ---------------------------------------------------------------------------------
def _factor_finding(analysis: StudyAnalysis, factor: FactorInfo) -> FactorFinding:
    primary = analysis.primary
    comparisons = [(analysis.variant(name), analysis.comparison(name, primary.key))
                   for name in factor.variants]
    tested = [(v, c) for v, c in comparisons if c is not None and c.difference.mean is not None]
    skipped = [v for v, _ in comparisons if not v.budget_ok]
    sentences: list[str] = []
    if not tested and analysis.grid is not None and analysis.baseline is None and not skipped:
        sentences.append("No cell of the grid is the study file's baseline, so the cells are not tested one "
                         "by one against a reference; the grid's findings (heatmap, two-way ANOVA with "
                         "interaction, best levels) are in the section The grid.")
        return FactorFinding(factor.name, tuple(sentences), None, None, None, None)
    if not tested:
        reason = "was skipped for budget" if skipped else "has no finished trials yet"
        sentences.append(f"The factor {factor.name} {reason}, so there is nothing to compare.")
        return FactorFinding(factor.name, tuple(sentences), None, None, None, None)
    if len(tested) <= MAX_LEVEL_SENTENCES:
        for v, c in tested:
            sentences.append(_level_sentence(analysis, v, c))
            described = _descriptive_sentence(analysis, v.name)
            if described:
                sentences.append(described)
    else:
        sentences += _many_levels(analysis, factor, tested)
    sentences.append(_test_set_sentence(analysis, tested))
    if skipped:
        sentences.append(f"Not trained (over budget): {', '.join(_level(v) for v in skipped)}.")
    strongest_v, strongest_c = max(tested, key=lambda vc: abs(vc[1].difference.mean))
    return FactorFinding(factor.name, tuple(sentences), strongest_v.name,
                         strongest_c.effect_size, strongest_c.difference, strongest_c)


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


def _level_sentence(analysis: StudyAnalysis, variant: VariantInfo, comparison: PairedComparison) -> str:
    head = _change_phrase(variant, variant.factor or "variant")
    return f"{head}, {analysis.primary.label}: {fmt.finding(analysis.primary, comparison)}."


def _descriptive_sentence(analysis: StudyAnalysis, variant: str) -> str | None:
    """Collapse and overfitting of a variant next to the baseline's, labelled descriptive (no test)."""
    own, base = analysis.summaries.get(variant), analysis.summaries.get(analysis.baseline or "")
    if own is None or base is None or own.n_used == 0 or base.n_used == 0:
        return None
    parts = []
    if own.collapsed_seeds:
        drop = own.metrics.get("train_drop")
        limit = (f"more than {100 * COLLAPSE_ACCURACY_DROP:.0f} points below its peak"
                 if analysis.task == "classification" else f"more than {100 * COLLAPSE_LOSS_RISE:.0f}% "
                 "above its minimum")
        spread = ""
        if drop is not None and drop.mean is not None and analysis.task == "classification":
            spread = f", a fall of {100 * drop.mean:.0f} points on average, sd {100 * (drop.std or 0):.0f}"
        parts.append(f"training collapsed on {own.collapsed_seeds} of {own.n_used} seeds (training "
                     f"{'accuracy' if analysis.task == 'classification' else 'loss'} ended {limit}"
                     f"{spread}; a collapse, not overfitting)")
    if own.overfit_seeds != base.overfit_seeds:
        parts.append(f"overfitting onset found on {_onset_share(own)}, against {_onset_share(base)} for the "
                     "baseline")
    if not parts:
        return None
    head = f"Descriptive (no test; n = {own.n_used} seeds, baseline n = {base.n_used}): "
    return head + "; ".join(parts) + "."


def _onset_share(summary) -> str:
    """'2 of 3 seeds (epoch 6.5 on average, sd 1.2; undetectable on 1)'."""
    text = f"{summary.overfit_seeds} of {summary.n_used} seeds"
    details = []
    onset = summary.metrics["overfit_onset"]
    if summary.overfit_seeds:
        spread = f", sd {onset.std:.1f}" if onset.std is not None else ""
        details.append(f"epoch {fmt.epoch(onset.mean)} on average{spread}")
    if summary.undetectable_seeds:
        details.append(f"undetectable on {summary.undetectable_seeds}: the minimum validation loss is too "
                       "near the last epoch")
    if summary.collapsed_seeds:
        details.append(f"{summary.collapsed_seeds} collapsed")
    if summary.noise_seeds:
        details.append(f"within noise on {summary.noise_seeds}: the train-val gap grew less than the seeds' "
                       "spread of validation loss")
    return text + (f" ({'; '.join(details)})" if details else "")


def _many_levels(analysis: StudyAnalysis, factor: FactorInfo, tested) -> list[str]:
    metric = analysis.primary
    ordered = sorted(tested, key=lambda vc: abs(vc[1].difference.mean), reverse=True)
    (big_v, big_c), (small_v, small_c) = ordered[0], ordered[-1]
    n_sig = sum(c.significant for _, c in tested)
    m = family_size(analysis.comparisons, metric.key)
    return [
        f"Of the {len(tested)} levels of {factor.name}, the largest difference in the {metric.label} is "
        f"for {_level(big_v)}: {fmt.finding(metric, big_c, power=False)}; the smallest for "
        f"{_level(small_v)}: {fmt.finding(metric, small_c, power=False)}.",
        f"Descriptive count: {n_sig} of these {len(tested)} differences survive Holm correction (family of "
        f"{_tests(m)}, n = {big_c.n} seeds each; each one's CI is in the paired comparisons table).",
    ]


def _test_set_sentence(analysis: StudyAnalysis, tested) -> str:
    metric = analysis.test_metric
    parts = []
    for v, _ in tested:
        c = analysis.comparison(v.name, metric.key)
        if c is None or c.difference.mean is None:
            continue
        parts.append(f"for {_level(v)}, {fmt.finding(metric, c, power=False)}")
    if not parts:
        return f"No {metric.label} is recorded for these variants."
    if len(parts) > MAX_LEVEL_SENTENCES:
        parts = parts[:MAX_LEVEL_SENTENCES]
        parts[-1] += " (the other levels are in the paired comparisons table)"
    where = "test set" if analysis.study.get("validation_is_test") else "held-out test set"
    return f"On the {where} ({metric.label} at the final epoch): " + "; ".join(parts) + "."


def _tests(m: int) -> str:
    return f"{m} test{'s' if m != 1 else ''}"


def _unadjusted_note(metric, tests: list[PairedComparison], m: int) -> list[str]:
    """Why "no difference survives Holm" can sit beside a comparison whose unadjusted CI excludes zero."""
    outside = [c for c in tests if c.testable and c.difference.lo is not None and c.difference.hi is not None
               and (c.difference.lo > 0 or c.difference.hi < 0)]
    if not outside or m < 2:
        return []
    shown = "; ".join(f"{c.variant}: {fmt.delta(metric, c.difference.mean)} "
                      f"({fmt.ci(metric, c.difference, as_delta=True)}, Holm-adjusted p = "
                      f"{fmt.p_value(c.p_holm)}, n = {c.n})" for c in outside[:MAX_LEVEL_SENTENCES])
    more = f" and {len(outside) - MAX_LEVEL_SENTENCES} more" if len(outside) > MAX_LEVEL_SENTENCES else ""
    verb = "has" if len(outside) == 1 else "have"
    return [f"{len(outside)} of these comparisons {verb} an unadjusted 95% CI that excludes zero "
            f"({shown}{more}): "
            f"each such interval alone would call the difference real, but with {_tests(m)} at once some "
            f"intervals exclude zero by chance, and Holm's correction, which decides the verdicts, does not "
            f"keep these (with few seeds the t-interval is also wide and unstable). Read them as candidates "
            f"to confirm with more seeds, not as findings."]


# --- summary ------------------------------------------------------------------------------------
def _settled_lines(analysis: StudyAnalysis) -> list[str]:
    """Seeds until settled: which variants got seeds beyond `min`, and why (the store's reasons)."""
    rule = (analysis.study.get("spec") or {}).get("seeds")
    if not isinstance(rule, dict):
        return []
    added: dict[str, list[dict]] = {}
    for row in analysis.study.get("seed_additions") or []:
        added.setdefault(str(row["variant"]), []).append(row)
    unit = " points" if analysis.primary.percent else ""
    head = (f"Seeds until settled (min {rule.get('min')}, max {rule.get('max')}, target: a 95% CI half-width "
            f"of {rule.get('target')}{unit} on the {analysis.primary.label}): ")
    if not added:
        return [head + "every comparison settled with the first seeds; none was added."]
    parts = [f"{variant} got seed{'s' if len(rows) > 1 else ''} {', '.join(str(r['seed']) for r in rows)} "
             f"(last reason: {rows[-1]['reason']})" for variant, rows in added.items()]
    return [head + "; ".join(parts) + ". The seeds were added after looking at the data, so the exact tests' "
            "p-values are computed as if n had been fixed; the CIs are the quantity the rule controls."]



def _summary(analysis: StudyAnalysis, ranked: list[FactorFinding]) -> list[str]:
    metric = analysis.primary
    lines = []
    n_trials = sum(s.n_used for s in analysis.summaries.values())
    n_variants = len(analysis.variants)
    if n_variants == 1:  # a single recipe (no factor): nothing to compare
        lines.append(f"Descriptive: one variant, {n_trials} usable trial{'s' if n_trials != 1 else ''} "
                     f"(n = {n_trials} seeds); no factor is varied, so there is no comparison.")
    else:
        used = [s.n_used for s in analysis.summaries.values() if s.n_total]
        n = f"{min(used)}" if used and min(used) == max(used) else f"{min(used or [0])} to {max(used or [0])}"
        compared = (f"each variant is compared with '{analysis.baseline}' on the same seeds"
                    if analysis.baseline is not None else "no variant is the baseline, so none is compared "
                    "with a reference")
        lines.append(f"Descriptive: {n_variants} variants, {n_trials} usable trials (n = {n} seeds per "
                     f"variant); {compared}.")
        lines += grid_sentences(analysis)
    best = "the highest mean" if metric.higher_is_better else "the lowest mean"
    for name, role in ((analysis.baseline, "the baseline"), (analysis.best_variant, best)):
        if name is None or (role == best and name == analysis.baseline):
            continue
        s = analysis.summaries[name]
        test = s.metrics.get(analysis.test_metric.key)
        who = role if name == "baseline" else f"{role} ({name})"
        mean = fmt.mean_ci_n(metric, s.metrics[metric.key])
        line = (f"Descriptive: {who} has a mean {metric.label} of {mean}"
                + (f" and a {analysis.test_metric.label} of {fmt.mean_ci_n(analysis.test_metric, test)}"
                   if test is not None and test.mean is not None else ""))
        c = analysis.comparison(name, metric.key)
        if role == best and c is not None and not c.significant:
            line += "; it is not distinguishable from the baseline (see its comparison), so no variant is " \
                    "named the best"
        lines.append(line + ".")
    if analysis.best_variant == analysis.baseline and analysis.baseline is not None and n_variants > 1:
        lines.append(f"Descriptive: no variant has a {'higher' if metric.higher_is_better else 'lower'} mean "
                     "than the baseline.")
    primary_tests = [c for c in analysis.comparisons if c.metric == metric.key]
    m = family_size(analysis.comparisons, metric.key)
    significant = [c for c in primary_tests if c.significant]
    if significant:
        lines.append(f"Differences in the {metric.label} that survive Holm correction (family of "
                     f"{_tests(m)}): "
                     + "; ".join(f"{c.variant}, {fmt.finding(metric, c)}" for c in significant) + ".")
    elif m and primary_tests and all(c.too_few_seeds for c in primary_tests):
        n_seeds = max(c.n for c in primary_tests)
        lines.append(f"Descriptive: no difference in the {metric.label} can be declared: with n = {n_seeds} "
                     f"seeds the exact test cannot reach the family's alpha (family of {_tests(m)}; it needs "
                     f"at least {primary_tests[0].seeds_to_detect} seeds), so every comparison "
                     f"reads \"too few seeds to test\".")
    elif m:
        n_seeds = max(c.n for c in primary_tests)
        lines.append(f"No difference in the {metric.label} survives Holm correction (family of {_tests(m)}, "
                     f"n = {n_seeds} seeds each; descriptive count).")
        lines += _unadjusted_note(metric, primary_tests, m)
    lines += _settled_lines(analysis)
    effects = [f for f in ranked if f.comparison is not None]
    if effects:
        described = []
        for f in effects:
            c = f.comparison
            level = analysis.variant(f.strongest).level or f.strongest
            mark = f" {SURVIVES}" if c.significant else ""
            described.append(f"{f.factor}: {fmt.shift(metric, c)} for {level} "
                             f"({fmt.ci(metric, c.difference, as_delta=True)}, n = {c.n}){mark}")
        lines.append(f"Descriptive ordering of the factors by their largest absolute paired difference in "
                     f"the {metric.label} ({SURVIVES}: survives Holm correction): "
                     + "; ".join(described) + ".")
    return lines
