"""`analyze_search(frames) -> SearchAnalysis`: what a search study found, computed from its tables.

- The searched trials in order, each with its factor values, status and objective value (the
  value at its end, on validation data), and the best-so-far history.
- Importance: PED-ANOVA (Optuna's `PedAnovaImportanceEvaluator`, top `TARGET_QUANTILE`) on every
  searched trial with a value, pruned ones at their last value (censored, and said so), with a 95%
  percentile interval from `BOOTSTRAP` resamples of those trials; a ranking is stated only between
  factors whose intervals separate.
  With fewer than `MIN_TRIALS_FOR_IMPORTANCE` trials it is not computed; below `FEW_TRIALS` it
  carries a caveat.
- Marginal effect of each factor: the mean objective per bin of its values (per choice, or per
  quantile bin of a range) with a 95% t-interval; descriptive (the other factors vary too).
- Confirmation: the baseline and the top configurations at the confirmation seeds, each seed on its
  own validation split (the search driver moves `data.split_seed`), analysed exactly like an
  ablation (`hyperlab.analysis.analyze`: exact paired tests, CIs, Holm) with the Holm family grown by
  every searched configuration that was eligible but not confirmed (selection counts), a plain
  verdict on whether the best configuration found beats the baseline on held-out test data, and the
  winner's optimism: its search score minus its confirmed score on fresh validation splits.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import optuna
import pandas as pd

from hyperlab.analysis.analyze import HOLM_EXTRA, analyze
from hyperlab.analysis.results import StudyAnalysis
from hyperlab.analysis.stats import Estimate, PairedComparison, estimate
from hyperlab.engine import TrialConfig
from hyperlab.search import RESULT_STATUSES, distributions
from hyperlab.spec import SearchSpace, StudySpec, search_space
from hyperlab.store.frames import StudyFrames

MIN_TRIALS_FOR_IMPORTANCE = 4  # fewer trials with a value: no importance at all
FEW_TRIALS = 20  # fewer: importance is shown with a caveat
BOOTSTRAP = 200  # resamples for the importance intervals
# PED-ANOVA (Watanabe et al., IJCAI 2023): deterministic, no forest, so no forest-seed instability
# (fANOVA with 16 trees put learning rate anywhere from 0.18 to 0.53 across forest seeds), and ~30 ms
# an evaluation where a 64-tree fANOVA fit takes ~1 s: 200 resamples fit in a report.
TARGET_QUANTILE = 0.25  # the top quarter of the trials is what "good" means (5 of a 20-trial search)
ALPHA = 0.05


@dataclass(frozen=True)
class SearchTrial:
    """One searched configuration and what became of it."""

    number: int  # 1-based, in the order the sampler proposed it
    variant: str
    key: str
    status: str  # completed, early_stopped, pruned, diverged, failed, infeasible, pending, ...
    value: float | None  # the objective at the end (completed and early_stopped trials)
    values: dict[str, Any]  # factor name -> number or choice label
    epochs: int  # epochs trained (a pruned trial: the epoch it stopped at)
    stop_reason: str | None
    last_value: float | None = None  # the objective at its last recorded epoch (a pruned trial's too)


@dataclass(frozen=True)
class Importance:
    """One factor's fANOVA importance (share of the objective's variance) and its bootstrap interval."""

    factor: str
    importance: float
    lo: float
    hi: float


@dataclass(frozen=True)
class MarginalEffect:
    """The mean objective per bin of one factor's values, with 95% t-intervals (descriptive)."""

    factor: str
    kind: str  # "float" | "int" | "categorical"
    log: bool
    bins: tuple[str, ...]  # bin labels (choices, or value ranges)
    centers: tuple[float, ...]  # a position per bin for plotting (index for choices)
    estimates: tuple[Estimate, ...]


@dataclass(frozen=True)
class SearchAnalysis:
    """Everything the search report shows (plain data)."""

    study: dict
    objective: str
    maximize: bool
    sampler: str
    pruner: str
    factors: tuple[str, ...]
    trials: tuple[SearchTrial, ...]
    counts: dict[str, int]  # status -> searched trials
    best: SearchTrial | None
    importance: tuple[Importance, ...]  # most important first
    importance_note: str | None  # why it is missing or weak
    effects: tuple[MarginalEffect, ...]
    top: tuple[str, ...]  # variants confirmed, best first
    confirm_seeds: tuple[int, ...]
    confirmation: StudyAnalysis | None  # baseline vs the top configurations at the confirm seeds
    verdict: str  # one plain sentence on the best configuration vs the baseline (test data)
    warnings: tuple[str, ...] = ()
    optimism: Estimate | None = None  # winner's search score - its confirmed scores (fresh splits)
    eligible: int = 0  # searched configurations with a value: each could have been selected

    @property
    def history(self) -> list[tuple[int, float | None, float | None]]:
        """(trial number, its value, best value so far) in search order."""
        out, best = [], None
        for t in self.trials:
            if t.value is not None:
                best = t.value if best is None else (max if self.maximize else min)(best, t.value)
            out.append((t.number, t.value, best))
        return out


def analyze_search(frames: StudyFrames) -> SearchAnalysis:
    """Analyse a search study's tables (see the module docstring)."""
    study = StudySpec.model_validate(frames.study["spec"])
    assert study.search is not None  # a search study (checked by the spec)
    space, problems = search_space(study)
    if space is None:
        raise ValueError(f"the stored search space no longer validates: {problems}")
    search, seed = study.search, study.seed_list[0]
    trials = _searched(frames, space, seed, search.objective)
    maximize = search.maximize
    ranked = sorted((t for t in trials if t.value is not None),
                    key=lambda t: ((-1 if maximize else 1) * t.value, t.number))
    scored = [(t.values, t.value) for t in trials if t.value is not None]
    pruned = [(t.values, t.last_value) for t in trials if t.status == "pruned" and t.last_value is not None]
    importance, note = importance_with_intervals(scored + pruned, space, seed=search.seed, maximize=maximize,
                                                 censored=len(pruned))
    seeds = tuple(seed + i for i in range(1, search.confirm.seeds + 1))
    confirmed = _confirmed(frames, seed)
    top = tuple(t.variant for t in ranked if t.variant in confirmed)
    eligible = len(ranked)
    confirmation = _confirmation(frames, top, seeds, eligible) if top else None
    warnings = []
    if frames.study.get("validation_is_test"):
        warnings.append("Validation is the test split: the search selected on the data the confirmation "
                        "tests on, so the verdict is optimistic.")
    return SearchAnalysis(
        study=dict(frames.study), objective=search.objective, maximize=maximize, sampler=search.sampler,
        pruner=search.pruner, factors=tuple(f.name for f in space.factors), trials=tuple(trials),
        counts={s: sum(t.status == s for t in trials) for s in sorted({t.status for t in trials})},
        best=ranked[0] if ranked else None, importance=importance, importance_note=note,
        effects=tuple(marginal_effect(f, scored) for f in space.factors), top=top, confirm_seeds=seeds,
        confirmation=confirmation, verdict=verdict(confirmation, top[0] if top else None),
        warnings=tuple(warnings), optimism=_optimism(frames, ranked, top, seeds, search.objective),
        eligible=eligible)


def _searched(frames: StudyFrames, space: SearchSpace, seed: int, objective: str) -> list[SearchTrial]:
    trials = frames.trials
    order = dict(zip(frames.variants["variant"], frames.variants["order"], strict=True))
    rows = trials[(trials["seed"] == seed) & (trials["variant"] != "baseline")]
    rows = rows.assign(_order=rows["variant"].map(order)).sort_values("_order")
    finals = frames.finals.set_index("trial_key") if len(frames.finals) else None
    epochs = frames.epochs
    out = []
    for number, row in enumerate(rows.itertuples(index=False), start=1):
        config = TrialConfig.from_stored(row.config)
        mine = epochs[epochs["trial_key"] == row.trial_key].sort_values("epoch") if len(epochs) else epochs
        values = [v for v in (mine[objective].tolist() if objective in mine else []) if _finite(v)]
        value = None
        if row.status in RESULT_STATUSES:
            known = finals is not None and row.trial_key in finals.index
            final = finals.loc[row.trial_key] if known else None
            stored = None if final is None else final.get(objective)
            value = float(stored) if _finite(stored) else (float(values[-1]) if values else None)
        out.append(SearchTrial(number, str(row.variant), str(row.trial_key), str(row.status), value,
                               space.values_of(config), int(mine["epoch"].max()) if len(mine) else 0,
                               None if pd.isna(row.stop_reason) else str(row.stop_reason),
                               float(values[-1]) if values else None))
    return out


def _confirmed(frames: StudyFrames, seed: int) -> set[str]:
    """Searched variants that were re-run at other seeds (the confirmation stage's)."""
    trials = frames.trials
    again = trials[(trials["seed"] != seed) & (trials["variant"] != "baseline")]
    return set(again["variant"])


def _optimism(frames: StudyFrames, ranked: Sequence[SearchTrial], top: Sequence[str], seeds: Sequence[int],
              objective: str) -> Estimate | None:
    """The winner's search score minus its score at each confirmation seed (the objective at the
    trial's end, on that seed's own validation split), with a 95% t-interval over those seeds."""
    if not top or not ranked or ranked[0].variant != top[0] or ranked[0].value is None:
        return None
    rows = frames.trials[(frames.trials["variant"] == top[0]) & frames.trials["seed"].isin(seeds)
                         & frames.trials["status"].isin(RESULT_STATUSES)]
    confirmed = [_end_value(frames, str(k), objective) for k in rows["trial_key"]]
    found = [ranked[0].value - v for v in confirmed if v is not None]
    return estimate(found) if found else None


def _end_value(frames: StudyFrames, key: str, objective: str) -> float | None:
    """A trial's objective at its end: the stored final value, else its last epoch's."""
    finals = frames.finals
    if len(finals) and objective in finals.columns:
        stored = finals.loc[finals["trial_key"] == key, objective]
        if len(stored) and _finite(stored.iloc[0]):
            return float(stored.iloc[0])
    epochs = frames.epochs
    mine = epochs[epochs["trial_key"] == key].sort_values("epoch") if len(epochs) else epochs
    values = [v for v in (mine[objective].tolist() if objective in mine else []) if _finite(v)]
    return float(values[-1]) if values else None


def _confirmation(frames: StudyFrames, top: Sequence[str], seeds: Sequence[int],
                  eligible: int = 0) -> StudyAnalysis | None:
    """The confirmation stage as an ablation: the baseline and the top variants at the confirm seeds.
    Its Holm family also holds, as p = 1, both metrics of every eligible configuration not confirmed:
    the confirmed ones were selected from all of them."""
    names = ["baseline", *top]
    trials = frames.trials[frames.trials["variant"].isin(names) & frames.trials["seed"].isin(seeds)]
    if not len(trials):
        return None
    keys = set(trials["trial_key"])
    epochs = frames.epochs[frames.epochs["trial_key"].isin(keys)] if len(frames.epochs) else frames.epochs
    finals = frames.finals[frames.finals["trial_key"].isin(keys)] if len(frames.finals) else frames.finals
    variants = frames.variants[frames.variants["variant"].isin(names)].copy()
    variants["order"] = variants["variant"].map({n: i for i, n in enumerate(names)})
    variants = variants.sort_values("order")
    unconfirmed = max(0, eligible - len(top))
    study = {**frames.study, "design": "ablation", "seeds": list(seeds), HOLM_EXTRA: 2 * unconfirmed}
    return analyze(StudyFrames(trials=trials.copy(), epochs=epochs.copy(), finals=finals.copy(),
                               variants=variants, study=study))


def verdict(confirmation: StudyAnalysis | None, best: str | None) -> str:
    """Whether the best configuration found beats the baseline on held-out test data, in words."""
    if confirmation is None or best is None:
        return ("No confirmation stage ran: nothing is claimed about the best configuration against the "
                "baseline.")
    metric = confirmation.test_metric
    found = [c for c in confirmation.comparisons if c.variant == best and c.metric == metric.key]
    if not found:
        return f"The best configuration found ({best}) has no paired test against the baseline."
    c: PairedComparison = found[0]
    d = c.difference
    if d.mean is None:
        return f"The best configuration found ({best}) has no usable paired seeds against the baseline."
    better = (d.mean > 0) == metric.higher_is_better
    interval = "" if d.lo is None else f" (95% CI {d.lo:+.4f} to {d.hi:+.4f})"
    p = c.p_holm if c.p_holm is not None else c.p_value
    test = (f"{c.test}, Holm-adjusted p = {p:.3g} in a family of {c.family}, n = {len(c.seeds)} seeds"
            if p is not None else f"no test: {c.note or 'too few seeds'}")
    significant = p is not None and p < ALPHA
    if c.too_few_seeds and not significant:
        head = (f"Not testable: the best configuration found ({best}) has {c.n} confirmation seeds, fewer "
                f"than the {c.seeds_to_detect} the exact test needs to reach the family's alpha on held-out "
                f"{metric.label} (raise [search] confirm.seeds)")
    elif significant and better:
        head = f"Yes: the best configuration found ({best}) beats the baseline on held-out {metric.label}"
    elif significant:
        head = f"No: the best configuration found ({best}) is worse than the baseline on {metric.label}"
    else:
        head = (f"Not shown: the best configuration found ({best}) does not beat the baseline on held-out "
                f"{metric.label} at the 5% level")
    return f"{head}: difference {d.mean:+.4f}{interval}; {test}."


# --- importance ------------------------------------------------------------------------------------

def importance_with_intervals(scored: Sequence[tuple[dict[str, Any], float]], space: SearchSpace, *,
                              seed: int = 0, n_boot: int = BOOTSTRAP, maximize: bool = True,
                              censored: int = 0) -> tuple[tuple[Importance, ...], str | None]:
    """PED-ANOVA importance of each factor on (values, objective) pairs, with 95% bootstrap intervals
    (percentiles of the importances recomputed on `n_boot` resamples of the trials). `censored`: how
    many of the pairs are pruned trials entered at their last value (said in the note)."""
    n = len(scored)
    if n < MIN_TRIALS_FOR_IMPORTANCE:
        return (), (f"Too few trials with a value ({n}, need {MIN_TRIALS_FOR_IMPORTANCE}) to estimate "
                    f"importance.")
    dists = distributions(space)
    point = _ped_anova(scored, dists, maximize)
    if point is None:
        return (), "PED-ANOVA could not be computed on these trials (too few distinct values)."
    rng = np.random.default_rng(seed)
    samples: dict[str, list[float]] = {name: [] for name in dists}
    for _ in range(n_boot):
        found = _ped_anova([scored[i] for i in rng.integers(0, n, n)], dists, maximize)
        for name, value in (found or {}).items():  # a resample without variance has nothing to share
            samples[name].append(value)
    out = []
    for name in dists:
        draws = np.array(samples[name]) if samples[name] else np.array([point[name]])
        lo, hi = np.percentile(draws, [2.5, 97.5])
        out.append(Importance(name, float(point[name]), float(lo), float(hi)))
    out.sort(key=lambda i: -i.importance)
    notes = []
    if censored:
        notes.append(f"{censored} of the {n} trials were pruned and enter at their last value (censored: "
                     f"a lower bound of what they would have reached when the objective is maximized, an "
                     f"upper bound when minimized).")
    if n < FEW_TRIALS:
        notes.append(f"Only {n} trials: the ranking is weak evidence (see the intervals).")
    return tuple(out), " ".join(notes) or None


def separations(importance: Sequence[Importance]) -> list[tuple[str, str]]:
    """(a, b) for every pair whose intervals do not overlap, a above b: the only ranking claimed."""
    return [(a.factor, b.factor) for a in importance for b in importance if a.lo > b.hi]


def ranking_sentence(importance: Sequence[Importance]) -> str:
    """The importance ranking the intervals support, in words ('' without importance)."""
    if not importance:
        return ""
    pairs = separations(importance)
    if not pairs:
        return ("No factor's 95% interval separates from another's: no ranking of the factors is claimed "
                "(the table's order is descriptive).")
    return ("Ranking where the 95% intervals separate (no overlap): "
            + "; ".join(f"{a} above {b}" for a, b in pairs) + "; other pairs are not ranked.")


def _ped_anova(scored: Sequence[tuple[dict[str, Any], float]], dists: dict,
               maximize: bool) -> dict[str, float] | None:
    """Importances of one PED-ANOVA evaluation (Optuna's PedAnovaImportanceEvaluator, the top
    TARGET_QUANTILE of the trials against all of them; normalized to sum to 1), None when it cannot
    be computed (a flat objective, or too few trials in the top quantile)."""
    if len({v for _, v in scored}) < 2:
        return None
    study = optuna.create_study(direction="maximize" if maximize else "minimize")
    study.add_trials([optuna.trial.create_trial(params=dict(values), distributions=dists, value=float(value))
                      for values, value in scored])
    evaluator = optuna.importance.PedAnovaImportanceEvaluator(target_quantile=TARGET_QUANTILE)
    try:
        with warnings.catch_warnings():  # PED-ANOVA warns when few trials fall in the top quantile
            warnings.simplefilter("ignore")
            found = optuna.importance.get_param_importances(study, evaluator=evaluator, normalize=True)
    except (ValueError, RuntimeError, ZeroDivisionError):
        return None
    values = {name: float(found.get(name, 0.0)) for name in dists}
    return values if all(math.isfinite(v) for v in values.values()) else None


# --- marginal effects --------------------------------------------------------------------------------

def marginal_effect(factor, scored: Sequence[tuple[dict[str, Any], float]], bins: int = 4) -> MarginalEffect:
    """Mean objective per choice, or per quantile bin of a range (log-spaced values binned in log)."""
    if factor.kind == "categorical":
        labels = tuple(factor.labels)
        groups = [[v for values, v in scored if values.get(factor.name) == label] for label in labels]
        positions = tuple(float(i) for i in range(len(labels)))
        estimates = tuple(estimate(g) for g in groups)
        return MarginalEffect(factor.name, factor.kind, False, labels, positions, estimates)
    xs = np.array([float(values[factor.name]) for values, _ in scored], dtype=float)
    ys = np.array([v for _, v in scored], dtype=float)
    if len(xs) == 0:
        return MarginalEffect(factor.name, factor.kind, factor.log, (), (), ())
    t = np.log10(xs) if factor.log else xs
    edges = np.unique(np.quantile(t, np.linspace(0, 1, min(bins, len(xs)) + 1)))
    if len(edges) < 2:
        edges = np.array([t.min(), t.max() + 1e-12])
    which = np.clip(np.searchsorted(edges, t, side="right") - 1, 0, len(edges) - 2)
    labels, centers, estimates = [], [], []
    for b in range(len(edges) - 1):
        lo, hi = (10 ** edges[b], 10 ** edges[b + 1]) if factor.log else (edges[b], edges[b + 1])
        labels.append(f"{lo:.3g} to {hi:.3g}")
        middle = (edges[b] + edges[b + 1]) / 2
        centers.append(float(10 ** middle if factor.log else middle))
        estimates.append(estimate(list(ys[which == b])))
    return MarginalEffect(factor.name, factor.kind, factor.log, tuple(labels), tuple(centers),
                          tuple(estimates))


def _finite(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)


def trials_table(analysis: SearchAnalysis) -> pd.DataFrame:
    """The searched trials, one row each, with a `level:<factor>` column per factor."""
    rows = [{"number": t.number, "variant": t.variant, "trial_key": t.key, "status": t.status,
             analysis.objective: t.value, "epochs": t.epochs, "stop_reason": t.stop_reason,
             **{f"level:{name}": t.values.get(name) for name in analysis.factors}} for t in analysis.trials]
    return pd.DataFrame(rows)


__all__ = ["Importance", "MarginalEffect", "SearchAnalysis", "SearchTrial", "analyze_search",
           "importance_with_intervals", "marginal_effect", "ranking_sentence", "separations", "trials_table",
           "verdict"]
