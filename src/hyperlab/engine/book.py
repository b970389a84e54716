"""`TrialBook`: one trial's bookkeeping, whoever computes its steps.

The engine (hyperlab.engine.loop) keeps one per trial; the stacked path (hyperlab.vectorized) keeps
one per trial of its stack and supplies only the batched forward, loss and optimizer step. Every
rule that decides what a trial reports lives here once: which epochs are evaluated, when it has
diverged, the epoch record, early stopping and the best weights, the end-of-trial evaluation, the
result, and the checkpoint document (with the identity a checkpoint must carry to be resumed).

An epoch, as both callers drive it:

    book.epoch += 1
    ...train one epoch...
    reason = book.diverged(train_loss, weights_finite, first_loss)   # -> status "diverged"
    if book.evaluates():
        ...evaluate on the validation split...
        ended = book.close_epoch(train, val, seconds, train_seconds, weights, on_epoch, save)
        # record, on_epoch (a Prune -> "pruned"), checkpoint; ended: ("diverged" | "pruned", reason)
    if book.done: book.finish(...)                                  # completed or early_stopped
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine.checkpoint import flatten_optimizer, load_checkpoint, save_checkpoint
from hyperlab.engine.config import TrainConfig
from hyperlab.engine.early_stopping import BestTracker
from hyperlab.engine.evaluate import evaluate, per_class_accuracy
from hyperlab.engine.numerics import extend as extend_numerics
from hyperlab.engine.predictions import trial_predictions, write_predictions
from hyperlab.engine.result import TrialResult
from hyperlab.engine.version import ENGINE_VERSION

Weights = dict[str, torch.Tensor]


@dataclass(frozen=True)
class Prune:
    """What an `on_epoch` callback returns to stop its trial after that epoch (a search's pruner):
    the epoch is recorded and checkpointed, then the trial ends with status `pruned` and
    stop_reason "pruned at epoch E: <why>". Any other return value (None) lets it go on."""

    why: str


class TrialBook:
    """What the engine keeps for one trial while it trains, apart from the weights and optimizer."""

    def __init__(self, cfg: TrainConfig, identity: str, *, classification: bool, n_train: int,
                 params: int, workdir: Path | None = None) -> None:
        self.cfg, self.identity, self.classification = cfg, identity, classification
        self.n_train, self.params, self.workdir = n_train, params, workdir
        self.epoch = 0  # epochs done
        self.history: list[dict] = []  # one record per evaluated epoch
        es = cfg.early_stopping
        self.tracker = BestTracker(es.monitor if es else "val_loss", es.min_delta if es else 0.0,
                                   es.patience if es else None)
        self.best_weights: Weights | None = None
        self.stopped_early = False
        self.initial_loss = math.nan  # loss of the trial's first batch, the reference for divergence
        self.seconds_before = 0.0  # wall time of the calls before this one (a resumed trial)
        self.saved_epoch = 0  # the epoch of the last checkpoint written or resumed
        self.numerics: list[dict] = []  # segments of the numerics it trained under (engine/numerics.py)

    def trains_under(self, numerics: dict) -> None:
        """The numerics of the training about to start (after a resume: from the next epoch on)."""
        self.numerics = extend_numerics(self.numerics, numerics, self.epoch + 1)

    @property
    def done(self) -> bool:
        """Trained all its epochs, or early stopping ended it."""
        return self.stopped_early or self.epoch >= self.cfg.epochs

    def evaluates(self) -> bool:
        """The current epoch is evaluated (every `eval_every` epochs and the last one)."""
        return not (self.epoch % self.cfg.eval_every and self.epoch != self.cfg.epochs)

    def diverged(self, train_loss: float, weights_finite: bool, first_loss: float) -> str | None:
        """Take the epoch's training figures; why the trial counts as diverged, or None.
        `first_loss`: the loss of the trial's first batch (of epoch 1, carried on after it)."""
        self.initial_loss = first_loss
        if not math.isfinite(train_loss):
            return f"diverged at epoch {self.epoch}: train loss is {train_loss}"
        if not weights_finite:
            return f"diverged at epoch {self.epoch}: non-finite weights"
        factor = self.cfg.divergence_factor
        if factor is not None and self.initial_loss > 0 and train_loss > factor * self.initial_loss:
            return (f"diverged at epoch {self.epoch}: train loss {train_loss:.4g} is over {factor:g} x the "
                    f"initial loss {self.initial_loss:.4g} (train.divergence_factor)")
        return None

    def evaluated(self, train: dict, val: dict, seconds: float, train_seconds: float,
                  weights: Callable[[], Weights]) -> str | None:
        """Take an evaluated epoch: `train` (train_loss, train_accuracy or train_mse, lr), `val` (as
        hyperlab.engine.evaluate returns it), the epoch's wall time and its training part, and the
        trial's current weights (copied when they are the best so far). Appends the epoch record and
        updates early stopping; returns why the trial diverged (a non-finite val loss), or None."""
        if not math.isfinite(val["loss"]):
            return f"diverged at epoch {self.epoch}: val loss is {val['loss']}"
        record: dict = {"epoch": self.epoch}
        record.update({k: v for k, v in train.items() if k != "lr"})
        names = ("loss", "accuracy") if self.classification else ("loss", "mse", "mae", "r2")
        record.update({f"val_{name}": _finite_or_none(val[name]) for name in names})
        record["lr"] = train["lr"]
        record["seconds"] = seconds
        record["examples_per_s"] = self.n_train / max(train_seconds, 1e-9)
        self.history.append(record)
        if self.tracker.update(record):
            self.best_weights = {k: v.detach().clone() for k, v in weights().items()}
        self.stopped_early = self.tracker.exhausted and self.epoch < self.cfg.epochs
        return None

    def close_epoch(self, train: dict, val: dict, seconds: float, train_seconds: float,
                    weights: Callable[[], Weights], on_epoch: Callable[[dict], object] | None,
                    save: Callable[[], None]) -> tuple[str, str] | None:
        """An evaluated epoch, in the order every path keeps: record it (`evaluated`), report it
        through `on_epoch` *before* its checkpoint (a store that commits there never loses an epoch
        nor stores one twice), write the checkpoint (`save`, when there is a workdir), then honour
        a Prune. Returns (status, reason) when the trial ends here, else None."""
        divergence = self.evaluated(train, val, seconds, train_seconds, weights)
        if divergence:
            return "diverged", divergence
        stop = on_epoch(dict(self.history[-1])) if on_epoch is not None else None
        if self.workdir is not None:
            save()
        if isinstance(stop, Prune):
            return "pruned", f"pruned at epoch {self.epoch}: {stop.why}"
        return None

    def interrupted(self, save: Callable[[], None]) -> tuple[str, str]:
        """Stopped between epochs (Ctrl-C): checkpoint an epoch not yet saved; (status, reason)."""
        if self.workdir is not None and self.saved_epoch != self.epoch:
            save()
        return "interrupted", f"interrupted after epoch {self.epoch}"

    def result(self, status: str, reason: str, seconds: float, final: dict | None = None) -> TrialResult:
        return TrialResult(status=status, stop_reason=reason, epochs=self.history,  # type: ignore[arg-type]
                           best_epoch=self.tracker.best_epoch, final=final or {}, seconds=seconds,
                           params=self.params, numerics=list(self.numerics))

    # --- the end of a trial -----------------------------------------------------------------------------

    def finish(self, model: nn.Module, splits: Splits, eval_batch_size: int,
               autocast: Callable[[], AbstractContextManager]) -> tuple[str, str, dict]:
        """The end of a trial whose `model` holds its last weights: test metrics of the last and the
        best weights, validation metrics and per-class figures of the weights it keeps (the model
        holds those after the call), and the predictions document. Returns (status, reason, final)."""
        loss, classes = self.cfg.loss, splits.n_outputs if self.classification else 0

        def run(split: str) -> dict:
            inputs, targets = getattr(splits, f"x_{split}"), getattr(splits, f"y_{split}")
            return evaluate(model, inputs, targets, loss, classes, eval_batch_size, autocast)

        es = self.cfg.early_stopping
        keep_best = es is not None and es.restore_best
        test_last = run("test")
        if self.tracker.best_epoch == self.epoch or self.best_weights is None:
            test_best = test_last  # the best weights are the current ones
        else:
            last_weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            model.load_state_dict(self.best_weights)
            test_best = run("test")
            if not keep_best:
                model.load_state_dict(last_weights)
        test_kept = test_best if keep_best else test_last
        val_kept = run("val")
        final: dict = {f"test_{k}": _finite_or_none(v) for k, v in test_last.items() if k != "confusion"}
        final.update({f"best_test_{k}": _finite_or_none(v) for k, v in test_best.items() if k != "confusion"})
        final.update({f"val_{k}": _finite_or_none(v) for k, v in val_kept.items() if k != "confusion"})
        if self.classification:
            final["per_class_val"] = per_class_accuracy(val_kept["confusion"])
            final["per_class_test"] = per_class_accuracy(test_kept["confusion"])
            final["confusion_val"] = val_kept["confusion"]
            final["confusion_test"] = test_kept["confusion"]
        if self.workdir is not None:  # what the report draws (the model now holds the kept weights)
            write_predictions(self.workdir, trial_predictions(model, splits, loss, eval_batch_size, autocast,
                                                              final))
        if self.stopped_early:
            t = self.tracker
            return "early_stopped", (f"early_stopped at epoch {self.epoch}: {t.monitor} did not improve by "
                                     f"more than {t.min_delta} for {t.waited} evaluations (best "
                                     f"{t.best_value:.6g} at epoch {t.best_epoch})"), final
        return "completed", f"completed {self.epoch} epochs", final

    # --- checkpoints ------------------------------------------------------------------------------------

    def save(self, weights: Weights, optimizer: dict, rng: tuple[dict[str, torch.Tensor], dict],
             seconds: float) -> None:
        """Write the checkpoint of the current epoch to `workdir`: the weights (and the best ones), a
        torch optimizer state dict, the generators (`rng`: tensors named rng/..., and their JSON
        part) and this book, under the trial's identity."""
        if self.workdir is None:
            return
        save_checkpoint(self.workdir, *self.checkpoint(weights, optimizer, rng, seconds))
        self.saved_epoch = self.epoch

    def checkpoint(self, weights: Weights, optimizer: dict, rng: tuple[dict[str, torch.Tensor], dict],
                   seconds: float) -> tuple[dict[str, torch.Tensor], dict]:
        """The tensors and the document `save` writes for the current epoch (a stack hands them to a
        background writer: hyperlab.vectorized.train)."""
        tensors = {f"model/{k}": v for k, v in weights.items()}
        if self.best_weights is not None:
            tensors.update({f"best/{k}": v for k, v in self.best_weights.items()})
        optim_tensors, optim_state = flatten_optimizer(optimizer)
        tensors.update(optim_tensors)
        tensors.update(rng[0])
        state = {
            "fingerprint": self.identity, "engine_version": ENGINE_VERSION, "epoch": self.epoch,
            "history": self.history, "tracker": self.tracker.to_json(), "stopped_early": self.stopped_early,
            "seconds": seconds, "initial_loss": self.initial_loss, "optimizer": optim_state, "rng": rng[1],
            "numerics": self.numerics,
        }
        return tensors, state

    def restore(self, device: torch.device) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
        """Load the checkpoint in `workdir` into this book, if it is this trial's; returns its tensors
        and document (the caller restores weights, optimizer and generators), or None."""
        loaded = load_checkpoint(self.workdir) if self.workdir is not None else None
        if loaded is None:
            return None
        tensors, state = loaded
        if state.get("fingerprint") != self.identity:
            warnings.warn(f"{self.workdir}: checkpoint of another trial or engine version; starting over",
                          stacklevel=3)
            return None
        best = {k: v.to(device) for k, v in under(tensors, "best/").items()}
        self.best_weights = best or None
        self.epoch, self.history = state["epoch"], state["history"]
        self.saved_epoch = self.epoch
        self.tracker = BestTracker(**state["tracker"])
        self.stopped_early = state["stopped_early"]
        self.seconds_before = state["seconds"]
        self.initial_loss = state["initial_loss"]
        self.numerics = list(state.get("numerics") or [])  # absent in checkpoints written before them
        return tensors, state


def under(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    """The tensors whose names start with `prefix`, named without it."""
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
