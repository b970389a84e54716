"""One trial's bookkeeping inside a stack: history, early stopping, divergence, its final metrics.

Each rule is the engine's (hyperlab.engine.loop), applied to one trial; the final evaluation runs
the engine's own `evaluate` on the trial's own model, loaded with its weights from the stack.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine import TrialResult
from hyperlab.engine.determinism import derive_seed
from hyperlab.engine.early_stopping import BestTracker
from hyperlab.engine.evaluate import evaluate, per_class_accuracy
from hyperlab.engine.identity import trial_identity
from hyperlab.engine.predictions import trial_predictions, write_predictions
from hyperlab.models._common import PENALTIES_ATTR


class TrialState:
    """What the engine's per-trial run keeps, for one trial of a stack."""

    def __init__(self, index: int, config: Any, seed: int, model: nn.Module, workdir: Path | None,
                 splits: Splits, data_fingerprint: str | None = None, eval_batch_size: int = 1024) -> None:
        self.index, self.config, self.seed, self.model, self.workdir = index, config, seed, model, workdir
        train = config.train
        es = train.early_stopping
        self.tracker = BestTracker(es.monitor if es else "val_loss", es.min_delta if es else 0.0,
                                   es.patience if es else None)
        self.history: list[dict] = []
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.stopped_early = False
        self.initial_loss = math.nan
        self.epoch = 0
        self.seconds = 0.0  # this trial's share of the stack's wall time (vectorized.train._Group.charge)
        self.n_train = len(splits.x_train)
        # the engine seeds the global generator with this; only dropout draws from it
        self.dropout = torch.Generator().manual_seed(derive_seed(seed, "global"))
        self.augment_key = train.augment.model_dump_json() + f"/{seed}" if train.augment else None
        self.params = sum(p.numel() for p in model.parameters())
        self.eval_batch_size = eval_batch_size
        # the engine's checkpoint fingerprint: the trial identity (hyperlab.engine.loop._Run._fingerprint)
        self.fingerprint = trial_identity(config, seed, data_fingerprint)

    def penalties(self) -> dict[str, tuple[float, float]]:
        """{parameter name in the model: (l1, l2)} of the penalties its spec declared."""
        terms = getattr(self.model, PENALTIES_ATTR, None) or []
        names = {id(p): name for name, p in self.model.named_parameters()}
        out: dict[str, tuple[float, float]] = {}
        for param, l1, l2 in terms:
            a, b = out.get(names[id(param)], (0.0, 0.0))
            out[names[id(param)]] = (a + l1, b + l2)
        return out

    def evaluates(self, epoch: int) -> bool:
        train = self.config.train
        return not (epoch % train.eval_every and epoch != train.epochs)

    def divergence(self, train_loss: float, weights_finite: bool) -> str | None:
        """Why this epoch counts as diverged, or None (the engine's rule)."""
        if not math.isfinite(train_loss):
            return f"train loss is {train_loss}"
        if not weights_finite:
            return "non-finite weights"
        factor = self.config.train.divergence_factor
        if factor is not None and self.initial_loss > 0 and train_loss > factor * self.initial_loss:
            return (f"train loss {train_loss:.4g} is over {factor:g} x the initial loss "
                    f"{self.initial_loss:.4g} (train.divergence_factor)")
        return None

    def record(self, train_metrics: dict, val: dict, seconds: float, train_seconds: float) -> dict:
        """The epoch record (the engine's keys); appended to the history."""
        record: dict = {"epoch": self.epoch, "train_loss": train_metrics["train_loss"],
                        "train_accuracy": train_metrics["train_accuracy"]}
        record.update({f"val_{name}": _finite_or_none(val[name]) for name in ("loss", "accuracy")})
        record["lr"] = train_metrics["lr"]
        record["seconds"] = seconds
        record["examples_per_s"] = self.n_train / max(train_seconds, 1e-9)  # this trial's, in the stack
        self.history.append(record)
        return record

    def result(self, status: str, reason: str, seconds: float, final: dict | None = None) -> TrialResult:
        return TrialResult(status=status, stop_reason=reason, epochs=self.history,
                           best_epoch=self.tracker.best_epoch, final=final or {}, seconds=seconds,
                           params=self.params)


def finish_trial(state: TrialState, splits: Splits, autocast: Callable[[], AbstractContextManager],
                 seconds: float) -> TrialResult:
    """The engine's end of a trial on `state.model` (holding its last weights): test metrics of the last
    and best weights, validation metrics and per-class figures of the weights it keeps."""
    started = time.perf_counter()
    model, train = state.model, state.config.train
    es = train.early_stopping
    keep_best = es is not None and es.restore_best
    classes = splits.n_outputs

    def run(split: str) -> dict:
        inputs, targets = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}")
        return evaluate(model, inputs, targets, train.loss, classes, state.eval_batch_size, autocast)

    test_last = run("test")
    if state.tracker.best_epoch == state.epoch or state.best_weights is None:
        test_best = test_last
    else:
        last_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
        model.load_state_dict(state.best_weights)
        test_best = run("test")
        if not keep_best:
            model.load_state_dict(last_weights)
    test_kept = test_best if keep_best else test_last
    val_kept = run("val")
    final: dict = {f"test_{k}": _finite_or_none(v) for k, v in test_last.items() if k != "confusion"}
    final.update({f"best_test_{k}": _finite_or_none(v) for k, v in test_best.items() if k != "confusion"})
    final.update({f"val_{k}": _finite_or_none(v) for k, v in val_kept.items() if k != "confusion"})
    final["per_class_val"] = per_class_accuracy(val_kept["confusion"])
    final["per_class_test"] = per_class_accuracy(test_kept["confusion"])
    final["confusion_val"] = val_kept["confusion"]
    final["confusion_test"] = test_kept["confusion"]
    if state.workdir is not None:  # what the report draws (the engine's document, from the kept weights)
        write_predictions(state.workdir, trial_predictions(model, splits, train.loss, state.eval_batch_size,
                                                           autocast, final))
    seconds += time.perf_counter() - started
    if state.stopped_early:
        tracker = state.tracker
        reason = (f"early_stopped at epoch {state.epoch}: {tracker.monitor} did not improve by more than "
                  f"{tracker.min_delta} for {tracker.waited} evaluations (best "
                  f"{tracker.best_value:.6g} at epoch {tracker.best_epoch})")
        return state.result("early_stopped", reason, seconds, final)
    return state.result("completed", f"completed {state.epoch} epochs", seconds, final)


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
