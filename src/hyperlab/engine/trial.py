"""One trial from its resolved config: build the data and the model, then `fit`."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field

from hyperlab.data import make_splits
from hyperlab.data.config import DataConfig
from hyperlab.data.splits import Splits
from hyperlab.engine.config import TrainConfig
from hyperlab.engine.determinism import derive_seed, resolve_device
from hyperlab.engine.loop import EpochCallback, StopPoll, fit
from hyperlab.engine.result import TrialResult
from hyperlab.models import ModelSpec, build_model, regularization_loss


class TrialConfig(BaseModel):
    """One trial's resolved config: a study's data, model and train sections after overrides."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    data: DataConfig = Field(default_factory=DataConfig)
    """The `[data]` section: dataset, split, scaling."""

    model: ModelSpec
    """The `[model]` section: the network, chosen by `kind`."""

    train: TrainConfig = Field(default_factory=TrainConfig)
    """The `[train]` section: how the network is trained."""


def train_trial(config: TrialConfig, seed: int, *, workdir: Path | None = None,
                on_epoch: EpochCallback | None = None, splits: Splits | None = None,
                should_stop: StopPoll | None = None) -> TrialResult:
    """Train one trial and report what happened; never raises for a training problem.

    - `seed`: the trial seed. The model's initial weights, the data order, augmentation and dropout
      each get their own stream derived from it (the data order from the seed alone, so every variant
      of a study sees the same batches for the same seed).
    - `workdir`: checkpoint.safetensors + checkpoint.json are written there after every evaluated
      epoch; if a checkpoint of this trial is there, training resumes from it and ends with the same
      numbers as an uninterrupted run.
    - `on_epoch(record)`: called after each evaluated epoch, before that epoch's checkpoint.
    - `splits`: already-built data (else `make_splits(config.data, device)`); must match config.data.
    - `should_stop()`: polled between epochs; True -> checkpoint, status "interrupted".

    Data that cannot be loaded raises (hyperlab.errors.UserError): that is not a training problem.
    """
    try:
        device = resolve_device(config.train.device)
    except RuntimeError as error:
        return TrialResult(status="failed", stop_reason=f"failed at epoch 0: {error}", error=str(error))
    if splits is None:
        splits = make_splits(config.data, device=str(device))
    try:
        n_outputs = config.train.loss.output_width(splits.n_outputs)
        model = build_model(config.model, splits.input_shape, n_outputs, derive_seed(seed, "model"))
    except Exception as error:  # a spec that does not fit the data, an error in a python-kind factory
        message = f"{type(error).__name__}: {error}"
        return TrialResult(status="failed", stop_reason=f"failed building the model: {message}",
                           error=message)
    return fit(model, splits, config.train, seed, workdir=workdir, on_epoch=on_epoch,
               should_stop=should_stop, regularization=regularization_loss)
