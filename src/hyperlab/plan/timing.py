"""How long a trial will train, estimated before training it (`[budget] max_seconds`).

The estimate times the real thing on this machine: the variant's model built with real weights,
its optimizer, loss and regularization, a few training steps on one batch of the trial's batch size
(random inputs of the data's shape: the cost of a dense or conv layer does not depend on the pixel
values, and loading a dataset to plan would cost more than the estimate), and one evaluation batch.
Then

    seconds = epochs x steps per epoch x seconds per step
              + evaluations x validation examples x seconds per evaluated example
              + test examples x seconds per evaluated example

with the split sizes from the data's metadata (hyperlab.data.describe, no array loaded). Not
counted: loading the data, checkpoints, a stacked group's sharing of one pass (docs/study-file.md
gives the measured error). The per-step and per-example times are cached per (model, input, batch
size, optimizer, loss, device, threads) in this process, so a plan whose variants differ only in
epochs or learning rate times the model once; timings vary from run to run, so a variant within a
few percent of the limit may be judged differently by two commands.
"""

from __future__ import annotations

import json
import math
import statistics
import time
from dataclasses import dataclass

import torch

from hyperlab.data import describe
from hyperlab.engine import RunSettings, TrialConfig
from hyperlab.engine.determinism import resolve_device
from hyperlab.errors import UserError
from hyperlab.models import build_model, regularization_loss

WARMUP_STEPS = 2  # first steps allocate buffers and pick kernels: not representative
TIMED_STEPS = 5  # the median of these is the step time


@dataclass(frozen=True)
class TimeEstimate:
    """A trial's estimated training time, and what it is made of."""

    seconds: float
    step_seconds: float  # one training step (forward, loss, backward, optimizer step)
    eval_seconds_per_example: float
    steps_per_epoch: int
    epochs: int

    def describe(self) -> str:
        return (f"estimated {self.seconds:,.0f} s ({self.epochs} epochs x {self.steps_per_epoch} steps x "
                f"{self.step_seconds * 1000:.3g} ms + evaluation)")


_CACHE: dict[str, tuple[float, float]] = {}  # timing key -> (step seconds, eval seconds per example)


def estimate_seconds(config: TrialConfig, settings: RunSettings | None = None) -> TimeEstimate:
    """The estimated training time of one trial of `config` on this machine, under `settings`
    (device, evaluation batch size; torch's current thread count)."""
    settings = settings or RunSettings()
    info = describe(config.data)
    train = config.train
    try:
        device = resolve_device(settings.device)
    except RuntimeError as error:
        raise UserError(f"--device: {error}") from None
    key = json.dumps([config.model.model_dump(mode="json"), list(info.input_shape), info.task,
                      info.n_outputs, train.batch_size, train.optimizer.model_dump(mode="json"),
                      train.loss.model_dump(mode="json"), train.precision, train.grad_clip,
                      str(device), torch.get_num_threads(), settings.eval_batch_size,
                      min(settings.eval_batch_size, max(info.n_val, 1))], sort_keys=True, default=str)
    if key not in _CACHE:
        _CACHE[key] = _time_steps(config, info, device, settings.eval_batch_size)
    step, per_example = _CACHE[key]
    steps = math.ceil(info.n_train / train.batch_size)
    evaluations = math.ceil(train.epochs / train.eval_every)
    seconds = (train.epochs * steps * step + evaluations * info.n_val * per_example
               + info.n_test * per_example)
    return TimeEstimate(seconds, step, per_example, steps, train.epochs)


def _time_steps(config: TrialConfig, info, device: torch.device, eval_batch_size: int) -> tuple[float, float]:
    train = config.train
    n_outputs = train.loss.output_width(info.n_outputs)
    model = build_model(config.model, tuple(info.input_shape), n_outputs, 0).to(device)
    optimizer = train.optimizer.build(model.parameters())
    batch = min(train.batch_size, max(info.n_train, 1))
    inputs = torch.randn(batch, *info.input_shape, device=device)
    targets = _targets(info, n_outputs, batch, device)
    autocast = torch.autocast(device.type, dtype=torch.bfloat16, enabled=train.precision == "bf16")
    times = []
    model.train()
    for step in range(WARMUP_STEPS + TIMED_STEPS):
        started = time.perf_counter()
        with autocast:
            outputs = model(inputs)
        loss = train.loss.per_example(outputs.float(), targets).mean()
        penalty = regularization_loss(model)
        if penalty is not None:
            loss = loss + penalty
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        if train.grad_clip is not None:
            torch.nn.utils.clip_grad_norm_(model.parameters(), train.grad_clip)
        optimizer.step()
        _sync(device)
        if step >= WARMUP_STEPS:
            times.append(time.perf_counter() - started)
    model.eval()
    n_eval = min(eval_batch_size, max(info.n_val, 1))
    eval_inputs = torch.randn(n_eval, *info.input_shape, device=device)
    eval_times = []
    with torch.no_grad():
        for _ in range(2):
            started = time.perf_counter()
            with autocast:
                model(eval_inputs)
            _sync(device)
            eval_times.append(time.perf_counter() - started)
    return statistics.median(times), min(eval_times) / n_eval


def _targets(info, n_outputs: int, batch: int, device: torch.device) -> torch.Tensor:
    if info.task == "classification":
        return torch.randint(0, max(info.n_outputs, 1), (batch,), device=device)
    shape = (batch,) if n_outputs == 1 else (batch, n_outputs)
    return torch.zeros(shape, device=device)


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
