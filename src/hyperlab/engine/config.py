"""The `[train]` section of a study: how one trial trains. See docs/training.md for the table."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from hyperlab.engine.losses import CrossEntropy, LossSpec
from hyperlab.engine.optimizers import SGD, OptimizerSpec
from hyperlab.engine.schedules import Constant, ScheduleSpec


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True, frozen=True)


class EarlyStopping(_Section):
    """Stop when the monitored validation metric has not improved for `patience` evaluations."""

    monitor: Literal["val_loss", "val_accuracy"] = "val_loss"
    """Metric watched (val_accuracy only for classification)."""

    patience: int = Field(default=5, ge=0)
    """Evaluations without improvement before stopping (epochs when eval_every = 1); 0 stops at the
    first evaluation that does not improve (Keras' convention)."""

    min_delta: float = Field(default=0.0, ge=0.0)
    """Smallest change of the monitored metric that counts as an improvement."""

    restore_best: bool = True
    """Keep the weights of the best evaluation (not the last one) as the trial's model."""


class Augment(_Section):
    """Random image transformations applied to each training batch (never to validation or test).
    Every example of a batch draws its own parameters from a generator seeded by the trial seed."""

    hflip: bool = False
    """Flip each image left-right with probability 1/2."""

    crop_padding: int = Field(default=0, ge=0)
    """Pixels of zero padding on each side before taking a random crop of the original size (0 = off;
    4 is the usual CIFAR value)."""

    rotate: float = Field(default=0.0, ge=0.0, le=180.0)
    """Rotate by an angle drawn uniformly in [-rotate, rotate] degrees (bilinear, zero fill)."""

    translate: float = Field(default=0.0, ge=0.0, lt=1.0)
    """Shift by up to this fraction of the width and of the height, drawn uniformly per axis."""

    cutout: int = Field(default=0, ge=0)
    """Side in pixels of a square set to zero at a uniformly drawn centre (0 = off)."""


class TrainConfig(_Section):
    """How one trial trains: epochs, batches, optimizer, schedule, loss, precision. Where it runs
    (device, threads, ...) is not part of a trial: see `hyperlab.engine.RunSettings`."""

    epochs: int = Field(default=10, ge=1)
    """Passes over the training set."""

    batch_size: int = Field(default=64, ge=1)
    """Examples per optimizer step; the last, smaller batch of an epoch is kept (as Keras does)."""

    optimizer: OptimizerSpec = Field(default_factory=SGD)
    """`name` (sgd, adam, adamw, adagrad, rmsprop) and the arguments that optimizer takes."""

    schedule: ScheduleSpec = Field(default_factory=Constant)
    """Learning-rate schedule: `name` (constant, step, multistep, exponential, cosine, onecycle,
    linear_warmup) and its arguments; the optimizer's lr is its base value."""

    loss: LossSpec = Field(default_factory=CrossEntropy)
    """`name` (cross_entropy, nll, categorical_cross_entropy, bce, mse, mae, huber) and its arguments.
    The model's L1/L2 penalties are added to it during training."""

    grad_clip: float | None = Field(default=None, gt=0.0)
    """Clip the global L2 norm of the gradients to this value before each step (null = off)."""

    divergence_factor: float | None = Field(default=100.0, gt=1.0)
    """Stop as `diverged` when an epoch's mean train loss exceeds this many times the loss of the
    trial's first batch (the untrained model): a loss that explodes but stays finite, as with a huge
    learning rate and ReLUs. null: only a non-finite loss or weights count as divergence."""

    eval_every: int = Field(default=1, ge=1)
    """Evaluate on the validation set every this many epochs (the last epoch always is)."""

    early_stopping: EarlyStopping | None = None
    """Stop early on a validation metric (absent = train all epochs)."""

    augment: Augment | None = None
    """Image augmentation of training batches (absent = none)."""

    precision: Literal["fp32", "bf16"] = "fp32"
    """bf16: forward passes under bfloat16 autocast (weights, optimizer and losses stay float32)."""
