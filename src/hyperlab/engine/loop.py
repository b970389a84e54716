"""`fit`: train an already-built model on already-built splits, epoch by epoch, and report.

The hot loop draws batches from in-memory tensors by a seeded permutation, keeps running sums on the
device and syncs with the host once per epoch. Everything that decides what the next epoch computes
(weights, optimizer, every generator, history, early-stopping state) goes into the checkpoint, so a
resumed trial ends with exactly the numbers of an uninterrupted one.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from pathlib import Path

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine.augment import Augmenter
from hyperlab.engine.book import Prune, TrialBook, under
from hyperlab.engine.checkpoint import unflatten_optimizer
from hyperlab.engine.config import TrainConfig
from hyperlab.engine.determinism import (
    derive_seed,
    global_rng_state,
    reproducible_torch,
    resolve_device,
    restore_generator,
    seed_global_rngs,
    set_global_rng_state,
)
from hyperlab.engine.dropout import draw_dropout_on_host
from hyperlab.engine.evaluate import evaluate
from hyperlab.engine.identity import trial_identity
from hyperlab.engine.numerics import current_numerics
from hyperlab.engine.result import TrialResult
from hyperlab.engine.settings import RunSettings
from hyperlab.faults import environment_fault

EpochCallback = Callable[[dict], "Prune | None"]  # may answer Prune(why): the trial ends `pruned`
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
        if run is None:
            return TrialResult(status="failed", stop_reason=f"failed at epoch 0: {message}",
                               seconds=time.perf_counter() - started, params=params, error=message)
        result = run.book.result("failed", f"failed at epoch {run.book.epoch}: {message}", run.elapsed())
        result.error = message
        return result


class _Run:
    """The state of one trial while it trains: its model, optimizer and generators; the rest of what
    it keeps (history, early stopping, divergence, result, checkpoint document) is its `book`."""

    def __init__(self, model: nn.Module, splits: Splits, cfg: TrainConfig, seed: int, device: torch.device,
                 regularization: Regularization | None, workdir: Path | None, settings: RunSettings,
                 identity: str | None) -> None:
        self.call_started = time.perf_counter()
        self._check(splits, cfg)
        self.cfg, self.seed, self.device, self.workdir = cfg, seed, device, workdir
        self.settings = settings
        self.regularization = regularization
        self.splits = splits.to(device)
        self.model = model.to(device)
        if device.type != "cpu":  # masks from the CPU generator, as on a CPU and in the stack
            draw_dropout_on_host(self.model)
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
        self.optimizer_step = cfg.optimizer.stepper(self.optimizer)
        self.parameters = [p for group in self.optimizer.param_groups for p in group["params"]]
        seed_global_rngs(derive_seed(seed, "global"))  # dropout and any user code drawing from it
        self.data_order = torch.Generator().manual_seed(derive_seed(seed, "data order"))
        self.augmenter = Augmenter(cfg.augment, derive_seed(seed, "augment"), device) if cfg.augment else None
        self.steps_per_epoch = math.ceil(len(self.splits.x_train) / cfg.batch_size)
        self.book = TrialBook(cfg, self._fingerprint(identity), classification=self.classification,
                              n_train=len(self.splits.x_train),
                              params=sum(p.numel() for p in self.model.parameters()), workdir=workdir)

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
        return self.book.seconds_before + time.perf_counter() - self.call_started

    def _result(self, status: str, reason: str, final: dict | None = None) -> TrialResult:
        return self.book.result(status, reason, self.elapsed(), final)

    # --- the epoch loop ------------------------------------------------------------------------------

    def train(self, on_epoch: EpochCallback | None, should_stop: StopPoll | None) -> TrialResult:
        book = self.book
        if self.workdir is not None:
            self._resume()
        book.trains_under(current_numerics(self.device, self.cfg.precision))
        while not book.done:
            if should_stop is not None and _call(should_stop):
                return self._result(*book.interrupted(self._save))
            book.epoch += 1
            epoch_started = time.perf_counter()
            train_metrics = self._train_epoch()
            train_seconds = time.perf_counter() - epoch_started
            divergence = book.diverged(train_metrics["train_loss"], train_metrics.pop("weights_finite"),
                                       train_metrics.pop("first_loss"))
            if divergence:
                return self._result("diverged", divergence)
            if not book.evaluates():
                continue
            val = self._evaluate("val")
            ended = book.close_epoch(train_metrics, val, time.perf_counter() - epoch_started, train_seconds,
                                     self.model.state_dict, on_epoch and (lambda r: _call(on_epoch, r)),
                                     self._save)
            if ended:
                return self._result(*ended)
        status, reason, final = book.finish(self.model, self.splits, self.settings.eval_batch_size,
                                            self.autocast)
        return self._result(status, reason, final)

    def _train_epoch(self) -> dict:
        cfg, model, optimizer, loss = self.cfg, self.model, self.optimizer, self.loss
        x, y = self.splits.x_train, self.splits.y_train
        n, batch_size = len(x), cfg.batch_size
        model.train()
        order = torch.randperm(n, generator=self.data_order).to(self.device)
        first_step = (self.book.epoch - 1) * self.steps_per_epoch
        total_steps = cfg.epochs * self.steps_per_epoch
        loss_sum = torch.zeros((), device=self.device)
        metric_sum = torch.zeros((), device=self.device)  # correct predictions, or squared errors
        lr = 0.0
        first_loss = torch.full((), self.book.initial_loss, device=self.device)
        # fp32 with no autocast around the trial: entering a disabled autocast each step changes
        # nothing, so skip it (bf16, or a caller's enabled autocast to turn off, still enter it)
        autocast = (self.autocast if cfg.precision == "bf16" or torch.is_autocast_enabled(self.device.type)
                    else nullcontext)
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
            with autocast():
                outputs = model(inputs)
            outputs = outputs.float()  # losses and metrics in float32 under bf16 autocast
            batch_loss = loss.per_example(outputs, targets).mean()
            if self.regularization is not None:
                penalty = self.regularization(model)
                if penalty is not None:
                    batch_loss = batch_loss + penalty
            if step == 0:
                first_loss = batch_loss.detach()
            for param in self.parameters:  # optimizer.zero_grad(set_to_none=True), minus its profiler range
                param.grad = None
            batch_loss.backward()
            if cfg.grad_clip is not None:
                nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
            self.optimizer_step()
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
        metric = "train_accuracy" if self.classification else "train_mse"
        return {"train_loss": sums[0] / n, metric: sums[1] / n, "lr": lr, "weights_finite": sums[2] == 1.0,
                "first_loss": sums[3]}

    def _evaluate(self, split: str) -> dict:
        s = self.splits
        inputs, targets = getattr(s, f"x_{split}"), getattr(s, f"y_{split}")
        classes = s.n_outputs if self.classification else 0
        return evaluate(self.model, inputs, targets, self.loss, classes, self.settings.eval_batch_size,
                        self.autocast)

    # --- checkpoints ------------------------------------------------------------------------------------

    def _fingerprint(self, identity: str | None) -> str:
        """What a checkpoint must have been written by to be resumed here: the trial's identity (the
        canonical config, seed, ENGINE_VERSION and data fingerprint; never the run settings). A bare
        `fit` without one (a model and splits built by the caller) uses its train config and seed."""
        if identity is not None:
            return identity
        return trial_identity(self.cfg, self.seed, f"{len(self.splits.x_train)}/{len(self.splits.x_val)}")

    def _save(self) -> None:
        rng_tensors, rng_state = global_rng_state()
        rng_tensors["rng/data_order"] = self.data_order.get_state()
        if self.augmenter is not None:
            rng_tensors["rng/augment"] = self.augmenter.generator.get_state()
        self.book.save(self.model.state_dict(), self.optimizer.state_dict(), (rng_tensors, rng_state),
                       self.elapsed())

    def _resume(self) -> None:
        loaded = self.book.restore(self.device)
        if loaded is None:
            return
        tensors, state = loaded
        self.model.load_state_dict(under(tensors, "model/"))
        self.optimizer.load_state_dict(unflatten_optimizer(tensors, state["optimizer"]))
        set_global_rng_state(tensors, state["rng"])
        self.data_order.set_state(tensors["rng/data_order"])
        if self.augmenter is not None:
            restore_generator(self.augmenter.generator, tensors["rng/augment"], "augmentation")
