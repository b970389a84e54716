"""`fit`: train an already-built model on already-built splits, epoch by epoch, and report.

The hot loop draws batches from in-memory tensors by a seeded permutation, keeps running sums on the
device and syncs with the host once per epoch. Everything that decides what the next epoch computes
(weights, optimizer, every generator, history, early-stopping state) goes into the checkpoint, so a
resumed trial ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine.augment import Augmenter
from hyperlab.engine.checkpoint import (
    flatten_optimizer,
    load_checkpoint,
    save_checkpoint,
    unflatten_optimizer,
)
from hyperlab.engine.config import TrainConfig
from hyperlab.engine.determinism import (
    derive_seed,
    global_rng_state,
    reproducible_torch,
    resolve_device,
    seed_global_rngs,
    set_global_rng_state,
)
from hyperlab.engine.early_stopping import BestTracker
from hyperlab.engine.evaluate import evaluate, per_class_accuracy
from hyperlab.engine.identity import trial_identity
from hyperlab.engine.predictions import trial_predictions, write_predictions
from hyperlab.engine.result import TrialResult
from hyperlab.engine.settings import RunSettings
from hyperlab.engine.version import ENGINE_VERSION
from hyperlab.faults import environment_fault

EpochCallback = Callable[[dict], None]
StopPoll = Callable[[], bool]
Regularization = Callable[[nn.Module], "torch.Tensor | None"]

TIMING_KEYS = ("seconds", "examples_per_s")  # the only record values that differ between equal runs


class _CallerError(Exception):
    """Wraps an exception raised by on_epoch / should_stop: the caller's bug propagates, it is not a
    failed trial."""


def _call(function: Callable, *args: object) -> object:
    try:
        return function(*args)
    except Exception as error:
        raise _CallerError from error


def fit(model: nn.Module, splits: Splits, train: TrainConfig, seed: int, *, workdir: Path | None = None,
        on_epoch: EpochCallback | None = None, should_stop: StopPoll | None = None,
        regularization: Regularization | None = None, settings: RunSettings | None = None,
        identity: str | None = None) -> TrialResult:
    """Train `model` (in place) on `splits` as `train` says; never raises for a training problem.

    `regularization(model)` returns the penalty added to each batch's loss (or None). After the call
    the model holds the weights the trial keeps: the best ones when early stopping restores them,
    else the last ones. `settings`: device, evaluation batch size, memory layout (never results).
    `identity`: the trial's identity (hyperlab.engine.identity), which a checkpoint must carry to be
    resumed. See `train_trial` for `workdir`, `on_epoch` and `should_stop`.
    """
    settings = settings or RunSettings()
    params = sum(p.numel() for p in model.parameters())
    run: _Run | None = None
    started = time.perf_counter()
    try:
        device = resolve_device(settings.device)
        with reproducible_torch(device):
            run = _Run(model, splits, train, seed, device, regularization, workdir, settings, identity)
            return run.train(on_epoch, should_stop)
    except _CallerError as error:
        raise error.__cause__ from None
    except Exception as error:
        fault = environment_fault(error)  # a full disk or a closed pipe is not the trial's outcome
        if fault is not None:
            raise fault from error
        message = f"{type(error).__name__}: {error}"
        epoch = run.epoch if run else 0
        return TrialResult(
            status="failed", stop_reason=f"failed at epoch {epoch}: {message}",
            epochs=run.history if run else [], best_epoch=run.tracker.best_epoch if run else None,
            seconds=run.elapsed() if run else time.perf_counter() - started, params=params, error=message)


class _Run:
    """The state of one trial while it trains."""

    def __init__(self, model: nn.Module, splits: Splits, cfg: TrainConfig, seed: int, device: torch.device,
                 regularization: Regularization | None, workdir: Path | None, settings: RunSettings,
                 identity: str | None) -> None:
        self.call_started = time.perf_counter()
        self.seconds_before = 0.0  # wall time of earlier calls (resume)
        self.epoch = 0  # epochs done
        self.history: list[dict] = []
        es = cfg.early_stopping
        self.tracker = BestTracker(es.monitor if es else "val_loss", es.min_delta if es else 0.0,
                                   es.patience if es else None)
        self._check(splits, cfg)
        self.cfg, self.seed, self.device, self.workdir = cfg, seed, device, workdir
        self.settings = settings
        self.regularization = regularization
        self.splits = splits.to(device)
        self.model = model.to(device)
        # channels_last: weights and the evaluation tensors are converted once; training batches are
        # gathered contiguous by index_select and converted per batch (a copy far cheaper than a conv).
        self.memory_format = (torch.channels_last if settings.channels_last and len(splits.input_shape) == 3
                              else None)
        if self.memory_format is not None:
            self.model = self.model.to(memory_format=self.memory_format)
            for name in ("x_val", "x_test"):
                tensor = getattr(self.splits, name)
                setattr(self.splits, name, tensor.contiguous(memory_format=self.memory_format))
        self.loss = cfg.loss
        self.classification = splits.task == "classification"
        self.optimizer = cfg.optimizer.build(self.model.parameters())
        seed_global_rngs(derive_seed(seed, "global"))  # dropout and any user code drawing from it
        self.data_order = torch.Generator().manual_seed(derive_seed(seed, "data order"))
        self.augmenter = Augmenter(cfg.augment, derive_seed(seed, "augment"), device) if cfg.augment else None
        self.best_weights: dict[str, torch.Tensor] | None = None
        self.stopped_early = False
        self.initial_loss = math.nan  # loss of the trial's first batch, the reference for divergence
        self.steps_per_epoch = math.ceil(len(self.splits.x_train) / cfg.batch_size)
        self.fingerprint = self._fingerprint(identity)

    @staticmethod
    def _check(splits: Splits, cfg: TrainConfig) -> None:
        problem = cfg.loss.check(splits.task, splits.n_outputs)
        if problem:
            raise ValueError(f"train.loss: {problem}")
        if splits.task == "regression" and cfg.early_stopping and cfg.early_stopping.monitor != "val_loss":
            raise ValueError("train.early_stopping.monitor: a regression task can only monitor val_loss")
        if cfg.augment and len(splits.input_shape) != 3:
            raise ValueError(f"train.augment needs images (C, H, W); inputs have shape {splits.input_shape}")

    def autocast(self) -> AbstractContextManager:
        return torch.autocast(self.device.type, dtype=torch.bfloat16, enabled=self.cfg.precision == "bf16")

    def elapsed(self) -> float:
        return self.seconds_before + time.perf_counter() - self.call_started

    # --- the epoch loop ------------------------------------------------------------------------------

    def train(self, on_epoch: EpochCallback | None, should_stop: StopPoll | None) -> TrialResult:
        if self.workdir is not None:
            self._resume()
        saved_epoch = self.epoch
        while self.epoch < self.cfg.epochs and not self.stopped_early:
            if should_stop is not None and _call(should_stop):
                if self.workdir is not None and saved_epoch != self.epoch:
                    self._save()
                return self._result("interrupted", f"interrupted after epoch {self.epoch}")
            self.epoch += 1
            epoch_started = time.perf_counter()
            train_metrics = self._train_epoch()
            train_seconds = time.perf_counter() - epoch_started
            divergence = self._divergence(train_metrics["train_loss"], train_metrics.pop("weights_finite"))
            if divergence:
                return self._result("diverged", f"diverged at epoch {self.epoch}: {divergence}")
            if self.epoch % self.cfg.eval_every and self.epoch != self.cfg.epochs:
                continue
            val = self._evaluate("val")
            if not math.isfinite(val["loss"]):
                return self._result("diverged", f"diverged at epoch {self.epoch}: val loss is {val['loss']}")
            record = self._record(train_metrics, val, epoch_started, train_seconds)
            self.history.append(record)
            if self.tracker.update(record):
                self.best_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.stopped_early = self.tracker.exhausted and self.epoch < self.cfg.epochs
            if on_epoch is not None:
                _call(on_epoch, dict(record))
            if self.workdir is not None:
                self._save()
                saved_epoch = self.epoch
        return self._finish()

    def _train_epoch(self) -> dict:
        cfg, model, optimizer, loss = self.cfg, self.model, self.optimizer, self.loss
        x, y = self.splits.x_train, self.splits.y_train
        n, batch_size = len(x), cfg.batch_size
        model.train()
        order = torch.randperm(n, generator=self.data_order).to(self.device)
        first_step = (self.epoch - 1) * self.steps_per_epoch
        total_steps = cfg.epochs * self.steps_per_epoch
        loss_sum = torch.zeros((), device=self.device)
        metric_sum = torch.zeros((), device=self.device)  # correct predictions, or squared errors
        lr = 0.0
        first_loss = torch.full((), self.initial_loss, device=self.device)
        for step, start in enumerate(range(0, n, batch_size), start=first_step):
            index = order[start:start + batch_size]
            inputs, targets = x.index_select(0, index), y.index_select(0, index)
            if self.augmenter is not None:
                inputs = self.augmenter(inputs)
            if self.memory_format is not None:
                inputs = inputs.contiguous(memory_format=self.memory_format)
            if step == first_step or cfg.schedule.per_batch:
                lr = cfg.schedule.lr_at(cfg.optimizer.lr, step, self.steps_per_epoch, total_steps)
                for group in optimizer.param_groups:
                    group["lr"] = lr
            with self.autocast():
                outputs = model(inputs)
            outputs = outputs.float()  # losses and metrics in float32 under bf16 autocast
            batch_loss = loss.per_example(outputs, targets).mean()
            if self.regularization is not None:
                penalty = self.regularization(model)
                if penalty is not None:
                    batch_loss = batch_loss + penalty
            if step == 0:
                first_loss = batch_loss.detach()
            optimizer.zero_grad(set_to_none=True)
            batch_loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            optimizer.step()
            with torch.no_grad():
                loss_sum.add_(batch_loss.detach(), alpha=len(index))
                if self.classification:
                    metric_sum += (loss.predict(outputs) == targets).sum()
                else:
                    squared = (outputs.reshape(targets.shape) - targets).square()
                    metric_sum += squared.reshape(len(index), -1).mean(dim=1).sum()
        with torch.no_grad():
            finite = torch.stack([p.isfinite().all() for p in model.parameters()]).all()
            sums = torch.stack([loss_sum, metric_sum, finite.float(), first_loss]).tolist()  # one sync
        self.initial_loss = sums[3]
        metric = "train_accuracy" if self.classification else "train_mse"
        return {"train_loss": sums[0] / n, metric: sums[1] / n, "weights_finite": sums[2] == 1.0, "lr": lr}

    def _divergence(self, train_loss: float, weights_finite: bool) -> str | None:
        """Why this epoch counts as diverged, or None."""
        if not math.isfinite(train_loss):
            return f"train loss is {train_loss}"
        if not weights_finite:
            return "non-finite weights"
        factor = self.cfg.divergence_factor
        if factor is not None and self.initial_loss > 0 and train_loss > factor * self.initial_loss:
            return (f"train loss {train_loss:.4g} is over {factor:g} x the initial loss "
                    f"{self.initial_loss:.4g} (train.divergence_factor)")
        return None

    def _evaluate(self, split: str) -> dict:
        s = self.splits
        inputs, targets = getattr(s, f"x_{split}"), getattr(s, f"y_{split}")
        classes = s.n_outputs if self.classification else 0
        return evaluate(self.model, inputs, targets, self.loss, classes, self.settings.eval_batch_size,
                        self.autocast)

    def _record(self, train_metrics: dict, val: dict, epoch_started: float, train_seconds: float) -> dict:
        record: dict = {"epoch": self.epoch}
        lr = train_metrics.pop("lr")
        record.update(train_metrics)
        names = ("loss", "accuracy") if self.classification else ("loss", "mse", "mae", "r2")
        record.update({f"val_{name}": _finite_or_none(val[name]) for name in names})
        record["lr"] = lr
        record["seconds"] = time.perf_counter() - epoch_started
        record["examples_per_s"] = len(self.splits.x_train) / max(train_seconds, 1e-9)
        return record

    def _result(self, status: str, reason: str, final: dict | None = None) -> TrialResult:
        return TrialResult(status=status, stop_reason=reason, epochs=self.history,
                           best_epoch=self.tracker.best_epoch, final=final or {}, seconds=self.elapsed(),
                           params=sum(p.numel() for p in self.model.parameters()))

    # --- the end of a trial -----------------------------------------------------------------------------

    def _finish(self) -> TrialResult:
        es = self.cfg.early_stopping
        keep_best = es is not None and es.restore_best
        test_last = self._evaluate("test")
        if self.tracker.best_epoch == self.epoch or self.best_weights is None:
            test_best = test_last  # the best weights are the current ones
        else:
            last_weights = {k: v.detach().clone() for k, v in self.model.state_dict().items()}
            self.model.load_state_dict(self.best_weights)
            test_best = self._evaluate("test")
            if not keep_best:
                self.model.load_state_dict(last_weights)
        test_kept = test_best if keep_best else test_last
        val_kept = self._evaluate("val")
        final: dict = {f"test_{k}": _finite_or_none(v) for k, v in test_last.items() if k != "confusion"}
        final.update({f"best_test_{k}": _finite_or_none(v) for k, v in test_best.items() if k != "confusion"})
        final.update({f"val_{k}": _finite_or_none(v) for k, v in val_kept.items() if k != "confusion"})
        if self.classification:
            final["per_class_val"] = per_class_accuracy(val_kept["confusion"])
            final["per_class_test"] = per_class_accuracy(test_kept["confusion"])
            final["confusion_val"] = val_kept["confusion"]
            final["confusion_test"] = test_kept["confusion"]
        if self.workdir is not None:  # what the report draws (the model now holds the kept weights)
            write_predictions(self.workdir, trial_predictions(
                self.model, self.splits, self.loss, self.settings.eval_batch_size, self.autocast, final))
        if self.stopped_early:
            monitor = self.tracker.monitor
            reason = (f"early_stopped at epoch {self.epoch}: {monitor} did not improve by more than "
                      f"{self.tracker.min_delta} for {self.tracker.waited} evaluations (best "
                      f"{self.tracker.best_value:.6g} at epoch {self.tracker.best_epoch})")
            return self._result("early_stopped", reason, final)
        return self._result("completed", f"completed {self.epoch} epochs", final)

    # --- checkpoints ------------------------------------------------------------------------------------

    def _fingerprint(self, identity: str | None) -> str:
        """What a checkpoint must have been written by to be resumed here: the trial's identity (the
        canonical config, seed, ENGINE_VERSION and data fingerprint; never the run settings). A bare
        `fit` without one (a model and splits built by the caller) uses its train config and seed."""
        if identity is not None:
            return identity
        return trial_identity(self.cfg, self.seed, f"{len(self.splits.x_train)}/{len(self.splits.x_val)}")

    def _save(self) -> None:
        tensors = {f"model/{k}": v for k, v in self.model.state_dict().items()}
        if self.best_weights is not None:
            tensors.update({f"best/{k}": v for k, v in self.best_weights.items()})
        optim_tensors, optim_state = flatten_optimizer(self.optimizer.state_dict())
        rng_tensors, rng_state = global_rng_state()
        tensors.update(optim_tensors)
        tensors.update(rng_tensors)
        tensors["rng/data_order"] = self.data_order.get_state()
        if self.augmenter is not None:
            tensors["rng/augment"] = self.augmenter.generator.get_state()
        state = {
            "fingerprint": self.fingerprint, "engine_version": ENGINE_VERSION, "epoch": self.epoch,
            "history": self.history, "tracker": self.tracker.to_json(), "stopped_early": self.stopped_early,
            "seconds": self.elapsed(), "initial_loss": self.initial_loss, "optimizer": optim_state,
            "rng": rng_state,
        }
        save_checkpoint(self.workdir, tensors, state)

    def _resume(self) -> None:
        loaded = load_checkpoint(self.workdir)
        if loaded is None:
            return
        tensors, state = loaded
        if state.get("fingerprint") != self.fingerprint:
            warnings.warn(f"{self.workdir}: checkpoint of another trial or engine version; starting over",
                          stacklevel=2)
            return
        self.model.load_state_dict(_under(tensors, "model/"))
        best = {k: v.to(self.device) for k, v in _under(tensors, "best/").items()}
        self.best_weights = best or None
        self.optimizer.load_state_dict(unflatten_optimizer(tensors, state["optimizer"]))
        set_global_rng_state(tensors, state["rng"])
        self.data_order.set_state(tensors["rng/data_order"])
        if self.augmenter is not None:
            self.augmenter.generator.set_state(tensors["rng/augment"])
        self.epoch, self.history = state["epoch"], state["history"]
        self.tracker = BestTracker(**state["tracker"])
        self.stopped_early = state["stopped_early"]
        self.seconds_before = state["seconds"]
        self.initial_loss = state["initial_loss"]


def _under(tensors: dict[str, torch.Tensor], prefix: str) -> dict[str, torch.Tensor]:
    return {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}


def _finite_or_none(value: float) -> float | None:
    return value if math.isfinite(value) else None
