"""How long a trial will train, estimated before training it (`[budget] max_seconds`).

The estimate times the real thing on this machine: the engine's own training loop (`fit`) with
the variant's model, optimizer, loss, regularization and the run's settings, for 3 short epochs of
4 steps at the trial's batch size and one validation batch, on random inputs of the data's shape
(the cost of a dense or conv layer does not depend on the pixel values, and loading a dataset to
plan would cost more than the estimate); the first epoch is a warm-up. Then

    seconds = epochs x steps per epoch x seconds per step
              + evaluations x validation examples x seconds per evaluated example
              + test examples x seconds per evaluated example + the fixed cost of a trial
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
from dataclasses import dataclass

import torch

from hyperlab.data import DataInfo, Splits, describe
from hyperlab.engine import RunSettings, TrialConfig
from hyperlab.engine.determinism import resolve_device
from hyperlab.engine.loop import fit
from hyperlab.errors import UserError
from hyperlab.models import build_model, regularization_loss

TIMED_STEPS = 4  # training steps per timed epoch
WARMUP_EPOCHS = 1  # the first epoch allocates buffers and picks kernels: not representative
TIMED_EPOCHS = 2  # the median of these gives the step time


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


_CACHE: dict[str, tuple[float, float, float]] = {}  # timing key -> (step s, eval s per example, fixed s)


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
    # What the time of a step depends on (not the learning rate or momentum values, nor epochs).
    key = json.dumps([config.model.model_dump(mode="json"), list(info.input_shape), info.task,
                      info.n_outputs, min(train.batch_size, info.n_train), train.optimizer.name,
                      train.model_dump(mode="json", include={"loss", "precision", "grad_clip", "augment"}),
                      str(device), torch.get_num_threads(), settings.eval_batch_size,
                      settings.channels_last, min(settings.eval_batch_size, max(info.n_val, 1))],
                     sort_keys=True, default=str)
    if key not in _CACHE:
        _CACHE[key] = _time_steps(config, info, settings)
    step, per_example, fixed = _CACHE[key]
    steps = math.ceil(info.n_train / train.batch_size)
    evaluations = math.ceil(train.epochs / train.eval_every)
    seconds = (train.epochs * steps * step + evaluations * info.n_val * per_example
               + info.n_test * per_example + fixed)
    return TimeEstimate(seconds, step, per_example, steps, train.epochs)


def _time_steps(config: TrialConfig, info: DataInfo, settings: RunSettings) -> tuple[float, float, float]:
    """(seconds per training step, per evaluated example, fixed per trial), timed by the engine's own
    `fit` on random data: TIMED_STEPS steps per epoch, one validation batch, WARMUP_EPOCHS untimed."""
    train = config.train
    n_outputs = train.loss.output_width(info.n_outputs)
    model = build_model(config.model, tuple(info.input_shape), n_outputs, 0)
    batch = min(train.batch_size, max(info.n_train, 1))
    n_train = min(max(info.n_train, 1), TIMED_STEPS * batch)
    steps = math.ceil(n_train / batch)
    n_eval = min(settings.eval_batch_size, max(info.n_val, 1))
    classes = [str(i) for i in range(info.n_outputs)] if info.task == "classification" else []
    splits = Splits(info.task, tuple(info.input_shape), classes,
                    torch.randn(n_train, *info.input_shape), _targets(info, n_outputs, n_train),
                    torch.randn(n_eval, *info.input_shape), _targets(info, n_outputs, n_eval),
                    torch.randn(n_eval, *info.input_shape), _targets(info, n_outputs, n_eval))
    epochs = WARMUP_EPOCHS + TIMED_EPOCHS
    short = train.model_copy(update={"epochs": epochs, "eval_every": 1, "early_stopping": None,
                                     "divergence_factor": None})
    result = fit(model, splits, short, 0, regularization=regularization_loss, settings=settings)
    records = result.epochs[WARMUP_EPOCHS:] or result.epochs
    if not records:  # random data made this configuration fail at once: charge the whole call
        return result.seconds / max(steps, 1), 0.0, 0.0
    # The median timed epoch, not the fastest: the trial will run under the machine's current load,
    # which the estimate should see too (on a busy machine the fastest window predicts an idle one).
    train_seconds = [n_train / max(r["examples_per_s"], 1e-9) for r in records]
    step = statistics.median(train_seconds) / steps
    evaluation = [max(r["seconds"] - t, 0.0) for r, t in zip(records, train_seconds, strict=True)]
    per_example = statistics.median(evaluation) / n_eval
    fixed = max(result.seconds - sum(r["seconds"] for r in result.epochs) - n_eval * per_example, 0.0)
    return step, per_example, fixed


def _targets(info: DataInfo, n_outputs: int, n: int) -> torch.Tensor:
    if info.task == "classification":
        return torch.randint(0, max(info.n_outputs, 1), (n,))
    return torch.zeros((n,) if n_outputs == 1 else (n, n_outputs))
