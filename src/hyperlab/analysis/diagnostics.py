"""Learning-curve diagnostics of one trial: best epochs, overfitting onset, gap, speed, instability.

Every quantity is defined in docs/report.md; the thresholds below are the ones documented there.
The functions take plain arrays (one value per evaluated epoch) so tests can feed synthetic curves
with known answers; `diagnose_trial` applies them to one trial's rows of the epochs frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

OVERFIT_VAL_MARGIN = 0.05  # val loss after the minimum must sit >= 5% above it (median of later epochs)
OVERFIT_TRAIN_DROP = 0.05  # ... while the training loss ends >= 5% below its value at the minimum
OVERFIT_MIN_EPOCHS_AFTER = 2  # evaluated epochs after the minimum needed to call it an onset
CONVERGENCE_FRACTION = 0.95  # "converged" = reached 95% of the trial's own best val accuracy
TAIL_FRACTION = 0.10  # instability is measured over the last tenth of training ...
TAIL_MIN_EPOCHS = 3  # ... but over at least 3 evaluated epochs
SPIKE_REL_INCREASE = 0.10  # a loss spike: training loss > 110% of the previous epoch's
DIVERGE_FACTOR = 2.0  # diverged: final training loss > 2x the first epoch's (or non-finite)
COLLAPSE_ACCURACY_DROP = 0.10  # collapsed: training accuracy ends > 10 points below its peak ...
COLLAPSE_LOSS_RISE = 0.50  # ... (regression: training loss ends > 50% above its minimum)
TIE_TOLERANCE = 1e-9  # relative: float values this close count as equal (no set size known)

# Overfitting status of a trial (TrialDiagnostics.overfit_status)
OVERFITS = "overfits"  # the rule found an onset
NO_OVERFITTING = "none"  # the rule applied and found none
UNDETECTABLE = "undetectable"  # fewer than OVERFIT_MIN_EPOCHS_AFTER epochs follow the minimum: cannot tell
COLLAPSED = "collapsed"  # training itself fell apart: not overfitting (see `collapsed`)
WITHIN_NOISE = "within noise"  # the rule fired, but the train-val gap grew less than the seeds' spread


@dataclass(frozen=True)
class TrialDiagnostics:
    """What one trial's curves say. None means "not applicable / not reached" (see docs/report.md)."""

    trial_key: str
    variant: str
    seed: int
    status: str
    n_epochs: int
    best_epoch_loss: int | None  # epoch of minimum validation loss
    best_epoch_accuracy: int | None  # epoch of maximum validation accuracy (None for regression)
    best_val_loss: float | None
    best_val_accuracy: float | None
    last_val_loss: float | None
    last_val_accuracy: float | None
    overfit_onset: int | None  # epoch where overfitting starts, None unless overfit_status is OVERFITS
    gap_at_best: float | None  # train - val accuracy (classification) / val - train loss, at best epoch
    gap_at_last: float | None  # the same at the last evaluated epoch
    epochs_to_95: int | None  # first epoch reaching 95% of this trial's best val accuracy
    seconds_to_95: float | None  # training seconds up to and including that epoch
    epochs_to_baseline: int | None  # first epoch reaching the baseline's best (mean over seeds)
    seconds_to_baseline: float | None
    tail_std: float | None  # std of val accuracy (val loss for regression) over the last tenth
    loss_spikes: int  # epochs whose training loss rose > 10% above the previous epoch's
    diverged: bool
    seconds_per_epoch: float | None
    train_seconds: float | None  # the trial's whole training time: the time a variant costs
    overfit_status: str = NO_OVERFITTING  # OVERFITS, NO_OVERFITTING, UNDETECTABLE or COLLAPSED
    collapsed: bool = False  # training accuracy fell > COLLAPSE_ACCURACY_DROP below its peak by the end
    train_drop: float | None = None  # peak minus last training accuracy (regression: last / min loss - 1)
    val_total: int | None = None  # validation examples, when known: accuracies are counts of it
    last_epoch: int | None = None  # the last evaluated epoch (its real number)


def best_epoch(epochs: np.ndarray, values: np.ndarray, *, maximize: bool) -> int | None:
    """The first epoch with the best finite value (None when no value is finite)."""
    mask = np.isfinite(values)
    if not mask.any():
        return None
    candidates = np.where(mask, values, -np.inf if maximize else np.inf)
    index = int(np.argmax(candidates) if maximize else np.argmin(candidates))
    return int(epochs[index])


def overfit_onset(epochs: np.ndarray, train_loss: np.ndarray, val_loss: np.ndarray) -> int | None:
    """The epoch of minimum validation loss, if the curves overfit after it; else None.
    (`overfit_status` says whether None means "none" or "undetectable".)

    Overfitting means: at least OVERFIT_MIN_EPOCHS_AFTER evaluated epochs follow the minimum, the
    median validation loss over them is at least OVERFIT_VAL_MARGIN (relative) above the minimum,
    and the training loss at the last epoch is at least OVERFIT_TRAIN_DROP (relative) below its
    value at the minimum (the model keeps fitting the training set while validation gets worse).
    """
    if not (np.isfinite(val_loss).all() and np.isfinite(train_loss).all()) or len(val_loss) == 0:
        return None
    index = int(np.argmin(val_loss))
    after = val_loss[index + 1:]
    if len(after) < OVERFIT_MIN_EPOCHS_AFTER:
        return None
    minimum = float(val_loss[index])
    rises = float(np.median(after)) >= minimum + OVERFIT_VAL_MARGIN * abs(minimum)
    train_at_min = float(train_loss[index])
    keeps_falling = float(train_loss[-1]) <= train_at_min - OVERFIT_TRAIN_DROP * abs(train_at_min)
    return int(epochs[index]) if rises and keeps_falling else None


def overfit_status(train_loss: np.ndarray, val_loss: np.ndarray, onset: int | None, collapsed: bool) -> str:
    """Whether the overfitting rule could apply: it needs OVERFIT_MIN_EPOCHS_AFTER epochs after the
    minimum of validation loss; a collapsed run is diagnosed as collapsed, not as overfitting."""
    if collapsed:
        return COLLAPSED
    if onset is not None:
        return OVERFITS
    finite = np.isfinite(val_loss).all() and np.isfinite(train_loss).all() and len(val_loss) > 0
    if not finite or len(val_loss) - 1 - int(np.argmin(val_loss)) < OVERFIT_MIN_EPOCHS_AFTER:
        return UNDETECTABLE
    return NO_OVERFITTING


def gap_growth(rows: pd.DataFrame, onset: int) -> float | None:
    """How much the loss gap (validation minus training loss) grew from the onset epoch to the last
    evaluated epoch; None when either is not finite."""
    ordered = rows.sort_values("epoch")
    epochs = ordered["epoch"].to_numpy()
    gap = _column(ordered, "val_loss") - _column(ordered, "train_loss")
    at = np.where(epochs == onset)[0]
    if not len(at) or not np.isfinite(gap[at[0]]) or not np.isfinite(gap[-1]):
        return None
    return float(gap[-1] - gap[at[0]])


def with_noise_model(trial: TrialDiagnostics, rows: pd.DataFrame, spread: float | None) -> TrialDiagnostics:
    """An onset stands only when the train-val loss gap grows, after it, by more than `spread`: the
    standard deviation over the variant's seeds of the validation loss at the onset epoch (the noise
    one seed's curve moves by). Otherwise the trial is WITHIN_NOISE, not overfitting. Without a spread
    (one seed) the onset is kept."""
    if trial.overfit_status != OVERFITS or trial.overfit_onset is None or spread is None:
        return trial
    growth = gap_growth(rows, trial.overfit_onset)
    if growth is not None and growth > spread:
        return trial
    return replace(trial, overfit_onset=None, overfit_status=WITHIN_NOISE)


def training_drop(train_accuracy: np.ndarray, train_loss: np.ndarray, *,
                  classification: bool) -> float | None:
    """How far training fell back by the end: peak minus last training accuracy (classification),
    last over minimum training loss minus 1 (regression); None when not measurable."""
    values = train_accuracy if classification else train_loss
    finite = values[np.isfinite(values)]
    if len(finite) < 2 or not np.isfinite(values[-1]):
        return None
    if classification:
        return float(finite.max() - values[-1])
    low = float(finite.min())
    return float(values[-1] / low - 1.0) if low > 0 else None


def is_collapsed(drop: float | None, *, classification: bool) -> bool:
    limit = COLLAPSE_ACCURACY_DROP if classification else COLLAPSE_LOSS_RISE
    return drop is not None and drop > limit


def first_epoch_reaching(epochs: np.ndarray, values: np.ndarray, target: float,
                         total: int | None = None) -> int | None:
    """The first epoch whose value is >= target (None if never, or target is not finite).

    total: the set size when values are accuracies: they are compared as whole counts against
    target x total; otherwise with a relative tolerance (TIE_TOLERANCE), so a target that is the
    mean of equal floats (one ulp above each) is still reached by those values.
    """
    if not math.isfinite(target):
        return None
    if total:
        counts = np.rint(values * total)
        hits = np.nonzero(np.isfinite(values) & (counts >= target * total - 1e-6))[0]
    else:
        tolerance = TIE_TOLERANCE * max(1.0, abs(target))
        hits = np.nonzero(np.isfinite(values) & (values >= target - tolerance))[0]
    return int(epochs[hits[0]]) if len(hits) else None


def tail_std(values: np.ndarray) -> float | None:
    """Sample std of the last tenth of the curve (at least TAIL_MIN_EPOCHS points), None if too short."""
    n_tail = max(TAIL_MIN_EPOCHS, math.ceil(TAIL_FRACTION * len(values)))
    if len(values) < n_tail:
        return None
    tail = values[-n_tail:]
    if not np.isfinite(tail).all():
        return None
    return float(np.std(tail, ddof=1))


def count_spikes(loss: np.ndarray) -> int:
    """Epochs whose loss exceeds the previous epoch's by more than SPIKE_REL_INCREASE (relative)."""
    if len(loss) < 2:
        return 0
    previous, current = loss[:-1], loss[1:]
    with np.errstate(invalid="ignore"):
        rises = current > previous + SPIKE_REL_INCREASE * np.abs(previous)
    rises |= np.isfinite(previous) & ~np.isfinite(current)  # a jump to inf/nan is a spike too
    return int(rises.sum())


def is_diverged(status: str, train_loss: np.ndarray, val_loss: np.ndarray) -> bool:
    """Diverged: the engine said so, a loss went non-finite, or training loss ended > 2x its start."""
    if status == "diverged":
        return True
    if len(train_loss) == 0:
        return False
    if not (np.isfinite(train_loss).all() and np.isfinite(val_loss).all()):
        return True
    return bool(train_loss[-1] > DIVERGE_FACTOR * train_loss[0] and len(train_loss) > 1)


def _column(rows: pd.DataFrame, name: str) -> np.ndarray:
    if name not in rows.columns:
        return np.full(len(rows), np.nan)
    return pd.to_numeric(rows[name], errors="coerce").to_numpy(dtype=float)


def _at(epochs: np.ndarray, values: np.ndarray, epoch: int | None) -> float | None:
    if epoch is None:
        return None
    value = values[np.nonzero(epochs == epoch)[0][0]]
    return float(value) if math.isfinite(value) else None


def diagnose_trial(
    trial_key: str, variant: str, seed: int, status: str, rows: pd.DataFrame,
    *, classification: bool, baseline_target: float | None, val_total: int | None = None,
) -> TrialDiagnostics:
    """All diagnostics of one trial from its rows of the epochs frame (any order).

    baseline_target: the baseline's best validation accuracy (mean over seeds) for the
    "epochs to reach the baseline's best" speed; None skips it. val_total: the validation set's
    size, when known (accuracies are then compared as counts of it).
    """
    rows = rows.sort_values("epoch")
    epochs = rows["epoch"].to_numpy(dtype=int)
    train_loss, val_loss = _column(rows, "train_loss"), _column(rows, "val_loss")
    # A record's `seconds` is the wall time of its own epoch; with eval_every = k only every k-th
    # epoch has a record, so each record stands for the epochs since the previous one.
    seconds = np.nan_to_num(_column(rows, "seconds"), nan=0.0) * np.diff(epochs, prepend=0)
    cumulative_seconds = np.cumsum(seconds)
    best_loss_epoch = best_epoch(epochs, val_loss, maximize=False)
    if classification:
        train_acc, val_acc = _column(rows, "train_accuracy"), _column(rows, "val_accuracy")
        best_acc_epoch = best_epoch(epochs, val_acc, maximize=True)
        best_acc = _at(epochs, val_acc, best_acc_epoch)
        gap = train_acc - val_acc
        gap_best = _at(epochs, gap, best_acc_epoch)
        tracked = val_acc
    else:
        val_acc = np.full(len(rows), np.nan)
        best_acc_epoch, best_acc = None, None
        gap = val_loss - train_loss
        gap_best = _at(epochs, gap, best_loss_epoch)
        tracked = val_loss

    def reach(target: float | None) -> tuple[int | None, float | None]:
        if target is None or not classification:
            return None, None
        epoch = first_epoch_reaching(epochs, val_acc, target, val_total)
        return epoch, (None if epoch is None else _at(epochs, cumulative_seconds, epoch))

    to_95 = reach(None if best_acc is None else CONVERGENCE_FRACTION * best_acc)
    to_baseline = reach(baseline_target)
    n = len(epochs)
    onset = overfit_onset(epochs, train_loss, val_loss)
    drop = training_drop(_column(rows, "train_accuracy"), train_loss, classification=classification) \
        if n else None
    collapsed = is_collapsed(drop, classification=classification)
    status_of_fit = overfit_status(train_loss, val_loss, onset, collapsed)
    return TrialDiagnostics(
        trial_key=trial_key, variant=variant, seed=int(seed), status=status, n_epochs=n,
        best_epoch_loss=best_loss_epoch, best_epoch_accuracy=best_acc_epoch,
        last_epoch=int(epochs[-1]) if n else None,
        best_val_loss=_at(epochs, val_loss, best_loss_epoch), best_val_accuracy=best_acc,
        last_val_loss=_at(epochs, val_loss, int(epochs[-1])) if n else None,
        last_val_accuracy=_at(epochs, val_acc, int(epochs[-1])) if n and classification else None,
        overfit_onset=onset if status_of_fit == OVERFITS else None,
        gap_at_best=gap_best, gap_at_last=_at(epochs, gap, int(epochs[-1])) if n else None,
        epochs_to_95=to_95[0], seconds_to_95=to_95[1],
        epochs_to_baseline=to_baseline[0], seconds_to_baseline=to_baseline[1],
        tail_std=tail_std(tracked[np.isfinite(tracked)] if n else tracked),
        loss_spikes=count_spikes(train_loss),
        diverged=is_diverged(status, train_loss, val_loss),
        seconds_per_epoch=float(seconds.sum() / epochs[-1]) if n and seconds.sum() > 0 else None,
        train_seconds=float(seconds.sum()) if n and seconds.sum() > 0 else None,
        overfit_status=status_of_fit, collapsed=collapsed, train_drop=drop, val_total=val_total,
    )


__all__ = [
    "TrialDiagnostics", "best_epoch", "overfit_onset", "first_epoch_reaching", "tail_std",
    "count_spikes", "is_diverged", "diagnose_trial", "overfit_status", "training_drop", "is_collapsed",
]
