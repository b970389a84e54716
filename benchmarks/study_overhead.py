"""The study machinery's cost per trial: a small notebook-000 study through the real runner (store
writes, an evaluation per epoch, a checkpoint per epoch), against the training time its own epoch
records report; then the same study with the vectorized executor, wall time against wall time."""

from __future__ import annotations

import tempfile
import time
from pathlib import Path

import numpy as np

STUDY = """
name = "bench-overhead"
seeds = 1

[data]
dataset = "npz:{npz}"
validation = 0.1
scale = "unit"
{subset}

[model]
kind = "mlp"
hidden = [32, 16, 64, 32, 16, 64]
init = "he_normal"
output_init = "glorot_uniform"

[train]
epochs = {epochs}
batch_size = 256
optimizer = {{ name = "sgd", lr = 0.01, momentum = 0.45 }}
threads = {threads}

[[factor]]
name = "learning rate"
path = "train.optimizer.lr"
levels = [0.0005, 0.05]

[[factor]]
name = "momentum"
path = "train.optimizer.momentum"
levels = [0.0, 0.95]
"""


def write_npz(images: np.ndarray, labels: np.ndarray, folder: Path) -> Path:
    """The benchmark's arrays as an npz in the Keras layout (a held-out tenth as the test split)."""
    cut = len(labels) * 9 // 10
    path = folder / "bench-data.npz"
    np.savez(path, x_train=images[:cut], y_train=labels[:cut], x_test=images[cut:], y_test=labels[cut:])
    return path


def measure(images: np.ndarray, labels: np.ndarray, epochs: int, threads: int) -> dict:
    """Run the study twice (one by one, then vectorized), each in a fresh workspace."""
    import hyperlab
    from hyperlab.data import make_splits
    from hyperlab.runner import LocalExecutor, VectorizedExecutor, run_study

    with tempfile.TemporaryDirectory(prefix="hl-bench-") as tmp:
        folder = Path(tmp)
        npz = write_npz(images, labels, folder)
        study_path = folder / "study.toml"
        study_path.write_text(STUDY.format(npz=npz, subset="", epochs=epochs, threads=threads))
        study = hyperlab.Study.load(study_path)
        plan = study.plan()
        make_splits(plan.trials[0].config.data)  # load once (memoized): not part of the overhead
        out: dict = {"trials": len({t.key for t in plan.trials}), "epochs": epochs,
                     "train_examples": None}
        for name, executor in (("one_by_one", LocalExecutor()), ("vectorized", VectorizedExecutor())):
            workspace = folder / name
            started = time.perf_counter()
            summary = run_study(study.spec, plan, workspace=workspace, executor=executor, report=False)
            wall = time.perf_counter() - started
            frames = study.results(workspace)
            n_train = len(make_splits(plan.trials[0].config.data).x_train)
            out["train_examples"] = n_train
            train_seconds = float((n_train / frames.epochs["examples_per_s"]).sum())
            out[name] = {"wall_s": wall, "statuses": summary.statuses,
                         "sum_of_epoch_train_s": train_seconds}
        one = out["one_by_one"]
        one["overhead"] = one["wall_s"] / one["sum_of_epoch_train_s"] - 1
        out["vectorized_speedup_wall"] = one["wall_s"] / out["vectorized"]["wall_s"]
        return out
