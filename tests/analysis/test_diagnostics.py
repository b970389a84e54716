"""Learning-curve diagnostics on synthetic curves whose answers are known by construction."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from hyperlab.analysis.diagnostics import (
    SPIKE_REL_INCREASE,
    best_epoch,
    count_spikes,
    diagnose_trial,
    first_epoch_reaching,
    is_diverged,
    overfit_onset,
    tail_std,
)

EPOCHS = np.arange(1, 61)


def overfitting_curves(onset: int) -> tuple[np.ndarray, np.ndarray]:
    """Training loss falls throughout; validation loss falls until `onset`, then rises linearly."""
    train = 2.0 * np.exp(-EPOCHS / 10) + 0.01
    epochs = EPOCHS
    before = epochs <= onset
    val = np.where(before, 2.0 - 0.03 * EPOCHS, 2.0 - 0.03 * onset + 0.02 * (EPOCHS - onset))
    return train, val


@pytest.mark.parametrize("onset", [12, 30, 51])
def test_overfitting_curve_has_its_known_onset(onset):
    train, val = overfitting_curves(onset)
    assert overfit_onset(EPOCHS, train, val) == onset
    assert best_epoch(EPOCHS, val, maximize=False) == onset


def test_monotone_curves_have_no_onset():
    train = 2.0 * np.exp(-EPOCHS / 10)
    val = 2.5 * np.exp(-EPOCHS / 15) + 0.3
    assert overfit_onset(EPOCHS, train, val) is None


def test_rising_validation_without_falling_training_loss_is_not_overfitting():
    _, val = overfitting_curves(30)
    flat_train = np.where(EPOCHS <= 30, 2.0 - 0.05 * EPOCHS, 2.0 - 0.05 * 30)  # stops improving at 30
    assert overfit_onset(EPOCHS, flat_train, val) is None


def test_a_minimum_in_the_last_epochs_is_not_an_onset():
    train, val = overfitting_curves(59)  # only one evaluated epoch after the minimum
    assert overfit_onset(EPOCHS, train, val) is None


def test_a_small_rise_below_the_margin_is_not_an_onset():
    train = 2.0 * np.exp(-EPOCHS / 10)
    val = np.where(EPOCHS <= 40, 1.0 - 0.01 * EPOCHS, 0.6 + 0.0005 * (EPOCHS - 40))  # +1.7% at most
    assert overfit_onset(EPOCHS, train, val) is None


def test_diverging_curve_is_flagged():
    train = np.array([2.3, 2.0, 1.8, 5.0, np.nan, np.nan])
    val = np.array([2.2, 1.9, 1.7, 6.0, np.nan, np.nan])
    assert is_diverged("completed", train, val)
    assert not is_diverged("completed", train[:3], val[:3])
    assert is_diverged("completed", np.array([2.0, 3.0, 4.5]), np.array([2.0, 3.0, 4.5]))  # > 2x start
    assert is_diverged("diverged", train[:3], val[:3])  # the engine's verdict stands


def test_loss_spikes_are_counted():
    loss = np.array([2.0, 1.5, 1.2, 1.6, 1.0, 0.9, 0.95, 1.3, 0.8])
    # rises: 1.2 -> 1.6 (+33%), 0.9 -> 0.95 (+5.6%, below the threshold), 0.95 -> 1.3 (+37%)
    assert pytest.approx(0.10) == SPIKE_REL_INCREASE
    assert count_spikes(loss) == 2
    assert count_spikes(np.array([1.0, np.inf])) == 1


def test_reaching_a_target_and_tail_spread():
    acc = np.array([0.1, 0.5, 0.8, 0.9, 0.85, 0.95])
    assert first_epoch_reaching(np.arange(1, 7), acc, 0.85) == 4
    assert first_epoch_reaching(np.arange(1, 7), acc, 0.99) is None
    curve = np.linspace(0, 1, 40)
    assert tail_std(curve) == pytest.approx(np.std(curve[-4:], ddof=1))  # a tenth of 40 epochs
    assert tail_std(curve[:10]) == pytest.approx(np.std(curve[7:10], ddof=1))  # at least 3 epochs
    assert tail_std(curve[:2]) is None


def test_diagnose_trial_reads_a_frame_and_times_convergence():
    train, val = overfitting_curves(30)
    val_acc = np.minimum(0.9, np.round(0.03 * EPOCHS, 9))  # reaches 95% of 0.9 (0.855) at epoch 29
    rows = pd.DataFrame({
        "epoch": EPOCHS[::-1], "train_loss": train[::-1], "val_loss": val[::-1],  # any order
        "train_accuracy": np.minimum(1.0, 0.035 * EPOCHS)[::-1], "val_accuracy": val_acc[::-1],
        "seconds": np.full(len(EPOCHS), 0.5),
    })
    d = diagnose_trial("k", "baseline", 0, "completed", rows, classification=True, baseline_target=0.6)
    assert d.overfit_onset == 30
    assert d.best_epoch_loss == 30
    assert d.best_epoch_accuracy == 30  # first epoch at the maximum
    assert d.epochs_to_95 == 29 and d.seconds_to_95 == pytest.approx(29 * 0.5)
    assert d.epochs_to_baseline == 20 and d.seconds_to_baseline == pytest.approx(10.0)
    assert d.gap_at_best == pytest.approx(min(1.0, 0.035 * 30) - 0.9)
    assert d.gap_at_last == pytest.approx(1.0 - 0.9)
    assert d.seconds_per_epoch == pytest.approx(0.5)
    assert d.train_seconds == pytest.approx(len(EPOCHS) * 0.5)  # the cost of a trial on the Pareto front
    assert not d.diverged and d.loss_spikes == 0


def test_diagnose_trial_on_regression_uses_losses():
    train, val = overfitting_curves(20)
    rows = pd.DataFrame({"epoch": EPOCHS, "train_loss": train, "val_loss": val, "val_mse": val})
    d = diagnose_trial("k", "baseline", 0, "completed", rows, classification=False, baseline_target=None)
    assert d.best_val_accuracy is None and d.epochs_to_95 is None
    assert d.overfit_onset == 20
    assert d.gap_at_best == pytest.approx(val[19] - train[19])
    assert d.tail_std == pytest.approx(np.std(val[-6:], ddof=1))


def _trial(seed: int, val_acc: list[float], val_loss: list[float]):
    from hyperlab.analysis.diagnostics import diagnose_trial

    n = len(val_acc)
    rows = pd.DataFrame({"epoch": range(1, n + 1), "train_loss": np.linspace(2.0, 1.0, n),
                         "val_loss": val_loss, "train_accuracy": val_acc, "val_accuracy": val_acc,
                         "seconds": [0.1] * n})
    return diagnose_trial(f"k{seed}", "baseline", seed, "completed", rows, classification=True,
                          baseline_target=None)


def test_an_undertrained_baseline_is_warned_about_near_chance_or_still_improving():
    from hyperlab.analysis.analyze import undertrained_baseline

    # Like the audit's reduced CIFAR baseline (15.4% on 10 classes, loss still falling), at 14.1%: the
    # 5-point rule; 15.4% itself is 5.4 points above chance and gets the still-improving warning only.
    weak = [_trial(s, [0.10, 0.12, 0.141], [2.3, 2.25, 2.2]) for s in range(3)]
    found = undertrained_baseline(weak, 0.1)
    assert len(found) == 2 and "within 5 points of chance (10.0%)" in found[0]
    assert "lowest at its last epoch on 3 of 3 seeds" in found[1]
    trained = [_trial(s, [0.5, 0.9, 0.95, 0.95], [1.0, 0.3, 0.2, 0.25]) for s in range(3)]
    assert undertrained_baseline(trained, 0.1) == []


def _curve_trial(val_loss: list[float], train_loss: list[float]):
    from hyperlab.analysis.diagnostics import diagnose_trial

    n = len(val_loss)
    rows = pd.DataFrame({"epoch": range(1, n + 1), "train_loss": train_loss, "val_loss": val_loss,
                         "train_accuracy": [0.9] * n, "val_accuracy": [0.9] * n, "seconds": [0.1] * n})
    return diagnose_trial("k", "v", 0, "completed", rows, classification=True, baseline_target=None), rows


def test_an_onset_needs_the_gap_to_grow_beyond_the_seed_spread():
    from hyperlab.analysis.diagnostics import OVERFITS, WITHIN_NOISE, with_noise_model

    # The audit's depth=2 seed 2: minimum 0.025, then 0.029 (+16%, so the old rule fired) while the
    # seeds' validation losses spread by 0.01: a gap growth of ~0.005 is noise.
    small, rows = _curve_trial([0.05, 0.03, 0.025, 0.029, 0.029, 0.029],
                               [0.05, 0.03, 0.024, 0.022, 0.022, 0.022])
    assert small.overfit_status == OVERFITS  # the old rule alone
    judged = with_noise_model(small, rows, spread=0.01)
    assert judged.overfit_status == WITHIN_NOISE and judged.overfit_onset is None
    big, rows = _curve_trial([0.5, 0.3, 0.25, 0.4, 0.5, 0.6], [0.5, 0.3, 0.2, 0.1, 0.05, 0.02])
    assert with_noise_model(big, rows, spread=0.01).overfit_onset == 3  # the gap grew by 0.53
    assert with_noise_model(small, rows, spread=None).overfit_status == OVERFITS  # one seed: no model
