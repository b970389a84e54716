"""One trial from its resolved config: build the data and the model, then `fit`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import BaseModel, ConfigDict, Field

from hyperlab.data.config import DataConfig
from hyperlab.engine.config import TrainConfig
from hyperlab.engine.identity import trial_identity
from hyperlab.engine.settings import RUN_KEYS, RunSettings
from hyperlab.errors import UserError
from hyperlab.models.registry import ModelSpec

if TYPE_CHECKING:  # torch-backed: imported where a trial trains, so reading a config needs no torch
    from hyperlab.data.splits import Splits
    from hyperlab.engine.loop import EpochCallback, StopPoll
    from hyperlab.engine.result import TrialResult


class TrialConfig(BaseModel):
    """One trial's resolved config: a study's data, model and train sections after overrides."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    data: DataConfig = Field(default_factory=DataConfig)
    """The `[data]` section: dataset, split, scaling."""

    model: ModelSpec
    """The `[model]` section: the network, chosen by `kind`."""

    train: TrainConfig = Field(default_factory=TrainConfig)
    """The `[train]` section: how the network is trained."""

    @classmethod
    def from_stored(cls, data: str | dict) -> TrialConfig:
        """A config as a store holds it (JSON text or data). Configs stored before run settings left
        the trial config carry `train.device`, `train.threads`, ...: they are dropped here."""
        return cls.model_validate(without_run_keys(json.loads(data) if isinstance(data, str) else data))


def without_run_keys(data: dict) -> dict:
    """Config data without the keys that are run settings (hyperlab.engine.settings.RUN_KEYS)."""
    out = dict(data)
    for section, key in RUN_KEYS:
        if isinstance(out.get(section), dict) and key in out[section]:
            out[section] = {k: v for k, v in out[section].items() if k != key}
    return out


def train_trial(config: TrialConfig, seed: int, *, workdir: Path | None = None,
                on_epoch: EpochCallback | None = None, splits: Splits | None = None,
                should_stop: StopPoll | None = None, settings: RunSettings | None = None,
                data_fingerprint: str | None = None) -> TrialResult:
    """Train one trial and report what happened; never raises for a training problem.

    - `seed`: the trial seed. The model's initial weights, the data order, augmentation and dropout
      each get their own stream derived from it (the data order from the seed alone, so every variant
      of a study sees the same batches for the same seed).
    - `workdir`: checkpoint.safetensors + checkpoint.json are written there after every evaluated
      epoch; if a checkpoint of this trial is there, training resumes from it and ends with the same
      numbers as an uninterrupted run.
    - `on_epoch(record)`: called after each evaluated epoch, before that epoch's checkpoint. It may
      answer `hyperlab.engine.Prune(why)`: the epoch is checkpointed, then the trial ends with
      status "pruned", stop_reason "pruned at epoch E: <why>" (a search's pruner; None goes on).
    - `splits`: already-built data (else `make_splits(config.data, device)`); must match config.data.
    - `should_stop()`: polled between epochs; True -> checkpoint, status "interrupted".
    - `settings`: where and how fast it runs (device, evaluation batch size, memory layout); never
      part of the trial's identity, so a checkpoint resumes under other settings.
    - `data_fingerprint`: what the data files contain (hyperlab.data.fingerprint), part of the
      identity a checkpoint must match.

    Data that cannot be loaded raises (hyperlab.errors.UserError): that is not a training problem.
    """
    from hyperlab.data import make_splits
    from hyperlab.engine.determinism import derive_seed, resolve_device
    from hyperlab.engine.loop import fit
    from hyperlab.engine.result import TrialResult
    from hyperlab.models import build_model, regularization_loss

    settings = settings or RunSettings()
    try:
        device = resolve_device(settings.device)
    except RuntimeError as error:  # the machine, not the trial: the caller checks before claiming
        raise UserError(f"--device: {error}") from None
    if splits is None:
        splits = make_splits(config.data, device=str(device), root=settings.data_root)
    try:
        n_outputs = config.train.loss.output_width(splits.n_outputs)
        model = build_model(config.model, splits.input_shape, n_outputs, derive_seed(seed, "model"))
    except Exception as error:  # a spec that does not fit the data, an error in a python-kind factory
        message = f"{type(error).__name__}: {error}"
        return TrialResult(status="failed", stop_reason=f"failed building the model: {message}",
                           error=message)
    return fit(model, splits, config.train, seed, workdir=workdir, on_epoch=on_epoch,
               should_stop=should_stop, regularization=regularization_loss, settings=settings,
               identity=trial_identity(config, seed, data_fingerprint))
