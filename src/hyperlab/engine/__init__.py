"""The training engine: one trial from config to metrics, deterministic, fast, honest about failure.

    result = train_trial(TrialConfig(model={"kind": "mlp", "hidden": [64]}), seed=0)
    result.status, result.epochs[-1]["val_accuracy"], result.final["test_accuracy"]

`fit(model, splits, train_config, seed)` is the core for an already-built model and data.
"""

from __future__ import annotations

from hyperlab.engine.augment import Augmenter
from hyperlab.engine.book import Prune, TrialBook
from hyperlab.engine.config import Augment, EarlyStopping, TrainConfig
from hyperlab.engine.determinism import derive_seed
from hyperlab.engine.loop import TIMING_KEYS, fit
from hyperlab.engine.losses import LOSSES, LossChoice
from hyperlab.engine.optimizers import OPTIMIZERS, OptimizerChoice
from hyperlab.engine.result import TrialResult
from hyperlab.engine.schedules import SCHEDULES, ScheduleChoice
from hyperlab.engine.settings import DEVICES, RunSettings
from hyperlab.engine.trial import TrialConfig, train_trial
from hyperlab.engine.version import ENGINE_VERSION

__all__ = [
    "DEVICES",
    "ENGINE_VERSION",
    "LOSSES",
    "OPTIMIZERS",
    "SCHEDULES",
    "TIMING_KEYS",
    "Augment",
    "Augmenter",
    "EarlyStopping",
    "LossChoice",
    "OptimizerChoice",
    "Prune",
    "RunSettings",
    "ScheduleChoice",
    "TrainConfig",
    "TrialBook",
    "TrialConfig",
    "TrialResult",
    "derive_seed",
    "fit",
    "train_trial",
]
