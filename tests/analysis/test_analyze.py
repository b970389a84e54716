"""`analyze` on hand-built StudyFrames: a multi-seed ablation with known answers, regression, edge cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from synthetic_frames import VARIANTS, ablation_frames, regression_frames

from hyperlab.analysis import analyze
from hyperlab.store.frames import StudyFrames


@pytest.fixture(scope="module")
def clean():
    return analyze(ablation_frames())


def _onsets(analysis, variant):
    return {d.seed: d.overfit_onset for d in analysis.trials if d.variant == variant}


def test_known_overfitting_onsets_per_trial(clean):
    for variant, spec in VARIANTS.items():
        onset = spec[6]
        assert set(_onsets(clean, variant).values()) == {onset}, variant
    assert clean.summaries["baseline"].overfit_seeds == 3
    assert clean.summaries["dropout=0.5"].overfit_seeds == 0


def test_the_higher_learning_rate_is_more_volatile(clean):
    volatile = clean.summaries["learning rate=0.1"].metrics["tail_std"].mean
    calm = clean.summaries["baseline"].metrics["tail_std"].mean
    assert volatile > 2 * calm


def test_variant_means_and_paired_tests_match_direct_computation(clean):
    frames = ablation_frames()
    best = frames.epochs.groupby(["variant", "seed"])["val_accuracy"].max()
    for variant in ("learning rate=0.001", "width=256"):
        diffs = np.array([best[(variant, s)] - best[("baseline", s)] for s in (0, 1, 2)])
        c = clean.comparison(variant, "best_val_accuracy")
        assert c.difference.mean == pytest.approx(diffs.mean())
        expected = stats.permutation_test((diffs,), np.mean, permutation_type="samples",
                                          n_resamples=np.inf)
        assert c.p_value == pytest.approx(expected.pvalue)
    summary = clean.summaries["baseline"].metrics["best_val_accuracy"]
    values = [best[("baseline", s)] for s in (0, 1, 2)]
    assert summary.mean == pytest.approx(np.mean(values))
    assert summary.hi - summary.mean == pytest.approx(stats.t.ppf(0.975, 2) * stats.sem(values))
    test = frames.finals.set_index(["variant", "seed"])["test_accuracy"]
    c = clean.comparison("dropout=0.5", "test_accuracy")
    assert c.difference.mean == pytest.approx(np.mean([test[("dropout=0.5", s)] - test[("baseline", s)]
                                                       for s in (0, 1, 2)]))


def test_holm_runs_across_all_variants(clean):
    primary = [c for c in clean.comparisons if c.metric == "best_val_accuracy"]
    assert len(primary) == len(VARIANTS) - 1
    ordered = sorted(primary, key=lambda c: c.p_value)
    assert ordered[0].p_holm == pytest.approx(min(1.0, len(primary) * ordered[0].p_value))
    assert all(c.p_holm >= c.p_value for c in primary)


def test_best_variant_is_chosen_on_validation(clean):
    assert clean.best_variant == "dropout=0.5"  # highest ceiling in VARIANTS
    assert set(clean.confusion) == {"baseline", "dropout=0.5"}
    assert clean.confusion["baseline"].sum() == 3 * 10 * 30  # three seeds of 300 test examples


def test_per_class_effect_shows_the_planted_drop(clean):
    effects = clean.per_class.effects["dropout=0.5"]
    others = [e.mean for i, e in enumerate(effects) if i != 3]
    assert effects[3].mean < min(others)
    assert len(clean.per_class.classes) == 10


def test_config_changes_and_cost(clean):
    lr = clean.variant("learning rate=0.1")
    assert [(c.key, c.baseline, c.value) for c in lr.changes] == [("train.optimizer.lr", 0.01, 0.1)]
    assert clean.pareto["params"][0] == "dropout=0.5"  # cheapest tier, best accuracy
    assert "width=256" not in clean.pareto["params"]  # more params, lower accuracy than dropout=0.5


def test_failed_and_diverged_trials_are_excluded_with_warnings():
    a = analyze(ablation_frames(failed=("dropout=0.5", 2), diverged=("learning rate=0.1", 1)))
    assert a.summaries["dropout=0.5"].n_used == 2 and a.summaries["dropout=0.5"].n_failed == 1
    assert a.summaries["learning rate=0.1"].n_diverged == 1
    assert a.comparison("dropout=0.5", "best_val_accuracy").note.startswith("not enough seeds")
    text = " ".join(a.warnings)
    assert "failed" in text and "diverged" in text and "Fewer than 3" in text
    assert {(e.variant, e.seed) for e in a.excluded} == {("dropout=0.5", 2), ("learning rate=0.1", 1)}


def test_a_trial_diverging_mid_training_is_detected_from_its_curve():
    frames = ablation_frames(diverged=("learning rate=0.1", 1))
    frames.trials.loc[frames.trials["status"] == "diverged", "status"] = "completed"  # engine missed it
    a = analyze(frames)
    assert a.summaries["learning rate=0.1"].n_diverged == 1
    assert ("learning rate=0.1", 1) not in {(d.variant, d.seed) for d in a.trials}


def test_running_study_validation_on_test_and_budget_warnings():
    a = analyze(ablation_frames(validation_is_test=True, skipped_variant="width=256"))
    text = " ".join(a.warnings)
    assert "selection bias" in text
    assert "skipped for budget" in text and "max_params" in text
    a = analyze(ablation_frames(pending=("dropout=0.5", 2)))
    assert any("still running" in w for w in a.warnings)
    assert a.summaries["dropout=0.5"].n_unfinished == 1


def test_a_trial_shared_by_two_variants_is_not_counted_twice():
    frames = ablation_frames()
    # The study gains a level equal to the baseline: the store lists the baseline's trials under it too.
    same = {"variant": "learning rate=0.01", "factor": "learning rate", "level": "0.01", "is_baseline": False}
    copies = []
    for name in ("trials", "epochs", "finals"):
        table = getattr(frames, name)
        extra = table[table["variant"] == "baseline"].assign(
            **{k: v for k, v in same.items() if k in table.columns})
        copies.append(pd.concat([table, extra], ignore_index=True))
    variants = pd.concat([frames.variants, pd.DataFrame([{**same, "params": 10_000, "macs": 10_000,
                          "flops": 20_000, "budget_ok": True, "budget_reason": "", "order": 99}])])
    a = analyze(StudyFrames(*copies, variants=variants, study=frames.study))
    assert a.summaries["learning rate=0.01"].n_used == 3
    assert a.curves["learning rate=0.01"]["val_accuracy"].n.max() == 3
    c = a.comparison("learning rate=0.01", "best_val_accuracy")
    assert c.difference.mean == 0.0 and c.p_value is None and "no variance" in c.note


def test_regression_study_uses_losses_and_does_not_crash():
    a = analyze(regression_frames())
    assert a.task == "regression"
    assert a.primary.key == "best_val_loss" and not a.primary.higher_is_better
    assert a.test_metric.key == "test_mse"
    assert a.per_class is None and a.confusion == {}
    frames = regression_frames()
    best_loss = frames.epochs.groupby(["variant", "seed"])["val_loss"].min().groupby("variant").mean()
    assert a.best_variant == best_loss.idxmin()
    c = a.comparison("learning rate=0.1", "test_mse")
    assert c.difference.mean == pytest.approx(0.05)
    assert {d.overfit_onset for d in a.trials if d.variant == "baseline"} == {12}
    assert {d.overfit_onset for d in a.trials if d.variant == "learning rate=0.1"} == {6}


def test_an_empty_study_analyses_to_nothing_without_error():
    frames = ablation_frames()
    empty = StudyFrames(trials=frames.trials.iloc[:0], epochs=frames.epochs.iloc[:0],
                        finals=frames.finals.iloc[:0], variants=frames.variants, study=frames.study)
    a = analyze(empty)
    assert a.trials == () and a.best_variant is None
    assert all(c.difference.mean is None for c in a.comparisons)


def test_no_marked_baseline_uses_the_first_variant():
    frames = ablation_frames()
    frames.variants["is_baseline"] = False
    frames.trials["is_baseline"] = False
    frames.variants["factor"] = None  # like grid cells without a single factor
    frames.trials["factor"] = None
    a = analyze(frames)
    assert a.baseline == "baseline"
    assert any("No variant is marked" in w for w in a.warnings)
    assert [f.name for f in a.factors] == ["variants"]


def test_time_on_the_pareto_front_is_a_whole_trial_not_an_epoch():
    # learning rate=0.001 (the least accurate) made 100x cheaper per trial: the time front must start
    # there, and the CostPoint carries the mean of each seed's summed epoch seconds.
    frames = ablation_frames()
    cheap = frames.epochs["variant"] == "learning rate=0.001"
    frames.epochs.loc[cheap, "seconds"] *= 0.01
    frames.trials.loc[frames.trials["variant"] == "learning rate=0.001", "seconds"] *= 0.01
    a = analyze(frames)
    point = next(p for p in a.cost if p.variant == "learning rate=0.001")
    per_trial = frames.epochs[cheap].groupby("seed")["seconds"].sum().mean()
    assert point.train_seconds == pytest.approx(per_trial)
    assert point.seconds_per_epoch == pytest.approx(per_trial / 40)
    assert a.pareto["train_seconds"][0] == "learning rate=0.001"
    assert "learning rate=0.001" not in a.pareto["params"]


def test_a_trials_time_is_the_stored_one_the_run_printed():
    """One definition of a trial's time: the report's s / trial is the trials frame's `seconds` (what
    the run printed: a stacked trial's share), not a recount of the epoch records."""
    frames = ablation_frames()
    frames.trials["seconds"] = 7.0
    a = analyze(frames)
    assert {d.train_seconds for d in a.trials} == {7.0}
    assert all(p.train_seconds == pytest.approx(7.0) for p in a.cost)
