"""Trial configs on digits and the comparison of vectorized results with the engine's."""

from __future__ import annotations

import math

from devices import STACK_VS_ENGINE_RTOL
from hyperlab.data import DataConfig
from hyperlab.engine import TIMING_KEYS, TrainConfig, TrialConfig, TrialResult

TOLERANCE = STACK_VS_ENGINE_RTOL  # relative: batched products round differently from one model's
MLP = {"kind": "mlp", "hidden": [32, 16], "init": "he_normal", "output_init": "glorot_uniform"}
# The convnet trains with CALM (lr 0.05, momentum 0.5): with lr 0.05 and momentum 0.9 the engine alone
# jumps to another trajectory when its initial weights move by 1e-6 (a max-pool tie flips), so no two
# differently rounded runs can agree there, engine or stack.
CALM = {"name": "sgd", "lr": 0.05, "momentum": 0.5}
CONVNET = {"kind": "sequential", "layers": ["conv 6 k3 p1", "bn", "relu", "maxpool 2", "conv 8 k3", "relu",
                                             "flatten", "dense 24", "relu"]}


def trial(model: dict | None = None, **train: object) -> TrialConfig:
    """A digits trial: 3 epochs of SGD with momentum at batch 64 on the CPU, changed by `train`."""
    settings: dict = {"epochs": 3, "batch_size": 64,
                      "optimizer": {"name": "sgd", "lr": 0.05, "momentum": 0.9}}
    settings.update(train)
    return TrialConfig(data=DataConfig(dataset="digits"), model=model or MLP, train=TrainConfig(**settings))


def with_model(base: dict, **changes: object) -> dict:
    return {**base, **changes}


def _close(a: object, b: object, where: str) -> None:
    if isinstance(b, float) and isinstance(a, float):
        assert math.isclose(a, b, rel_tol=TOLERANCE, abs_tol=1e-9), f"{where}: {a} != {b}"
    elif isinstance(b, list) and isinstance(a, list):
        assert len(a) == len(b), f"{where}: lengths {len(a)} != {len(b)}"
        for i, (x, y) in enumerate(zip(a, b, strict=True)):
            _close(x, y, f"{where}[{i}]")
    else:
        assert a == b, f"{where}: {a!r} != {b!r}"


def assert_same_result(vectorized: TrialResult, alone: TrialResult, name: str = "") -> None:
    """Equal status, reasons and epochs; every metric equal within TOLERANCE (timings aside)."""
    assert vectorized.status == alone.status, f"{name}: {vectorized.stop_reason} | {alone.stop_reason}"
    assert vectorized.best_epoch == alone.best_epoch, name
    assert vectorized.params == alone.params, name
    assert [r["epoch"] for r in vectorized.epochs] == [r["epoch"] for r in alone.epochs], name
    for mine, theirs in zip(vectorized.epochs, alone.epochs, strict=True):
        assert set(mine) == set(theirs), name
        for key in theirs:
            if key not in TIMING_KEYS:
                _close(mine[key], theirs[key], f"{name} epoch {theirs['epoch']} {key}")
    assert set(vectorized.final) == set(alone.final), name
    for key, value in alone.final.items():
        _close(vectorized.final[key], value, f"{name} final {key}")
    if alone.status != "diverged":  # a diverged trial's reason quotes losses printed to 4 digits
        assert vectorized.stop_reason == alone.stop_reason, name
