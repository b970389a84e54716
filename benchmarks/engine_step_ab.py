"""In-process A/B of the one-by-one engine's per-step levers at batch 32 (not a test).

    .venv/bin/python benchmarks/engine_step_ab.py            # notebook 000's MLP, batch 32, 1 thread

One trial of notebook 000's MLP (3072-32-16-64-32-16-64-10, SGD lr 0.01 momentum 0.45, batch 32) on
random CIFAR-shaped data (the step's cost does not depend on the pixel values) trains for --epochs
epochs; odd epochs take the old call, even epochs the engine's, so machine load hits both sides alike.
Both sides give bit-identical numbers (tests/engine/test_optimizer_step.py), which is what lets them
alternate inside one trial. Figures: the engine's training loop in CPU ms per step (process time of
`_train_epoch`), medians over epochs, first epoch dropped. Levers:
  sgd    torch's `optimizer.step()` vs the SGD choice's `stepper` (multi-tensor SGD, no wrapper)
  zero   `optimizer.zero_grad(set_to_none=True)` vs setting each `.grad` to None
"""

from __future__ import annotations

import argparse
import math
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch

from hyperlab.data import make_splits
from hyperlab.engine import loop
from hyperlab.engine.determinism import derive_seed
from hyperlab.engine.settings import RunSettings
from hyperlab.engine.trial import TrialConfig
from hyperlab.models import build_model, regularization_loss


def _old_side(run: loop._Run, lever: str, lean: object) -> None:
    if lever == "sgd":
        run.optimizer_step = run.optimizer.step
    else:
        optimizer = run.optimizer
        run.parameters = []  # gradients cleared after the step instead: the same state at the next backward
        run.optimizer_step = lambda: (lean(), optimizer.zero_grad(set_to_none=True))


def measure(lever: str, epochs: int, examples: int, folder: Path) -> tuple[float, float]:
    rng = np.random.default_rng(0)
    path = folder / "cifar-shaped.npz"
    images = rng.integers(0, 256, (examples + 100, 32, 32, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, examples + 100)
    np.savez(path, x_train=images[:examples], y_train=labels[:examples], x_test=images[examples:],
             y_test=labels[examples:])
    config = TrialConfig.model_validate({
        "data": {"dataset": f"npz:{path}", "validation": 0.1},
        "model": {"kind": "mlp", "hidden": [32, 16, 64, 32, 16, 64], "init": "he_normal",
                  "output_init": "glorot_uniform"},
        "train": {"epochs": epochs, "batch_size": 32, "divergence_factor": None,
                  "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.45}}})
    times: dict[str, list[float]] = {"old": [], "new": []}
    train_epoch = loop._Run._train_epoch

    def timed(run: loop._Run) -> dict:
        if not hasattr(run, "_ab_new"):
            run._ab_new = (run.optimizer_step, run.parameters)
        lean, params = run._ab_new
        side = "old" if run.book.epoch % 2 else "new"
        run.optimizer_step, run.parameters = lean, params
        if side == "old":
            _old_side(run, lever, lean)
        started = time.process_time()
        out = train_epoch(run)
        times[side].append(time.process_time() - started)
        return out

    loop._Run._train_epoch = timed
    try:
        splits = make_splits(config.data, device="cpu")
        model = build_model(config.model, splits.input_shape, splits.n_outputs, derive_seed(0, "model"))
        loop.fit(model, splits, config.train, 0, regularization=regularization_loss,
                 settings=RunSettings(device="cpu"))
    finally:
        loop._Run._train_epoch = train_epoch
    steps = math.ceil(len(splits.x_train) / 32)
    old, new = ([t / steps * 1000 for t in times[side][1:]] for side in ("old", "new"))
    return statistics.median(old), statistics.median(new)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--epochs", type=int, default=24)
    parser.add_argument("--examples", type=int, default=4000)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    with tempfile.TemporaryDirectory() as folder:
        for lever in ("sgd", "zero"):
            old, new = measure(lever, args.epochs, args.examples, Path(folder))
            print(f"{lever}: old {old:.4f} ms/step, new {new:.4f} ms/step, ratio {new / old:.3f} "
                  f"({args.epochs // 2 - 1} epochs per side, batch 32, {args.threads} thread(s))")


if __name__ == "__main__":
    main()
