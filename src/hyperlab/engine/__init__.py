"""The training engine: one trial from config to metrics, deterministic, fast, honest about failure.

    result = train_trial(TrialConfig(model={"kind": "mlp", "hidden": [64]}), seed=0)
    result.status, result.epochs[-1]["val_accuracy"], result.final["test_accuracy"]

`fit(model, splits, train_config, seed)` is the core for an already-built model and data.
"""

from __future__ import annotations

from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "Augmenter": "hyperlab.engine.augment",
    "Prune": "hyperlab.engine.book",
    "TrialBook": "hyperlab.engine.book",
    "Augment": "hyperlab.engine.config",
    "EarlyStopping": "hyperlab.engine.config",
    "TrainConfig": "hyperlab.engine.config",
    "derive_seed": "hyperlab.engine.determinism",
    "TIMING_KEYS": "hyperlab.engine.loop",
    "fit": "hyperlab.engine.loop",
    "LOSSES": "hyperlab.engine.losses",
    "LossChoice": "hyperlab.engine.losses",
    "OPTIMIZERS": "hyperlab.engine.optimizers",
    "OptimizerChoice": "hyperlab.engine.optimizers",
    "TrialResult": "hyperlab.engine.result",
    "SCHEDULES": "hyperlab.engine.schedules",
    "ScheduleChoice": "hyperlab.engine.schedules",
    "DEVICES": "hyperlab.engine.settings",
    "RunSettings": "hyperlab.engine.settings",
    "TrialConfig": "hyperlab.engine.trial",
    "train_trial": "hyperlab.engine.trial",
    "ENGINE_VERSION": "hyperlab.engine.version",
}

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


# Exports load on first use (PEP 562): commands that only read the store import this package's
# pure modules (configs, versions) without pulling in torch through the others.
__getattr__ = lazy_exports(__name__, _EXPORTS)
