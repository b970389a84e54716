"""StudyFrames built by hand, with the store's columns (docs/architecture.md, "store"), for tests.

`ablation_frames` is a realistic multi-seed ablation: a baseline and two factors, curves drawn from
parametric shapes with known overfitting onsets plus seeded noise, per-class accuracies and
confusion matrices, and optional failed / diverged / pending trials.
"""

from __future__ import annotations

import copy
import hashlib
import json

import numpy as np
import pandas as pd

from hyperlab.store.frames import StudyFrames

BASE_CONFIG = {
    "data": {"dataset": "digits", "validation": 0.1, "split_seed": 0, "scale": "unit", "subset": None},
    "model": {"kind": "mlp", "hidden": [64, 32], "activation": "relu", "dropout": 0.0},
    "train": {"epochs": 40, "batch_size": 64, "optimizer": {"name": "sgd", "lr": 0.01, "momentum": 0.9}},
}


def curve_rows(
    trial_key: str, variant: str, seed: int, *, epochs: int, ceiling: float, tau: float,
    onset: int | None, noise: float, rng: np.random.Generator, diverge_at: int | None = None,
) -> list[dict]:
    """Epoch records whose validation loss is minimal at `onset` and rises after it (None: never)."""
    rows = []
    for e in range(1, epochs + 1):
        learned = 1.0 - np.exp(-e / tau)
        train_loss = 2.3 * np.exp(-e / tau) + 0.05
        drift = 0.0 if onset is None or e <= onset else 0.02 * (e - onset)
        val_loss = 2.3 * np.exp(-e / tau) + 0.25 + drift
        if onset is None:
            val_loss -= 0.0005 * e  # strictly falling: no minimum before the end
        val_acc = ceiling * learned - 0.004 * (e - onset if onset and e > onset else 0)
        val_acc += noise * rng.standard_normal()
        if diverge_at is not None and e >= diverge_at:
            train_loss = val_loss = float("nan")
            val_acc = 0.1
        rows.append({
            "trial_key": trial_key, "variant": variant, "seed": seed, "epoch": e,
            "train_loss": train_loss, "train_accuracy": min(1.0, ceiling * learned + 0.05 + 0.002 * e),
            "val_loss": val_loss, "val_accuracy": float(np.clip(val_acc, 0.0, 1.0)), "lr": 0.01,
            "seconds": 0.5 + 0.01 * seed, "examples_per_s": 1000.0,
        })
    return rows


def _key(variant: str, seed: int) -> str:
    return hashlib.sha256(f"{variant}/{seed}".encode()).hexdigest()[:16]


def _set(config: dict, path: str, value) -> dict:
    config = copy.deepcopy(config)
    *parents, last = path.split(".")
    node = config
    for p in parents:
        node = node[p]
    node[last] = value
    return config


# variant -> (factor, level, config path, value, ceiling, tau, onset, noise, params)
VARIANTS = {
    "baseline": (None, None, None, None, 0.90, 4.0, 25, 0.004, 10_000),
    "learning rate=0.001": ("learning rate", "0.001", "train.optimizer.lr", 0.001, 0.80, 12.0, None,
                            0.004, 10_000),
    "learning rate=0.1": ("learning rate", "0.1", "train.optimizer.lr", 0.1, 0.86, 2.0, 10, 0.02, 10_000),
    "dropout=0.5": ("dropout", "0.5", "model.dropout", 0.5, 0.92, 5.0, None, 0.004, 10_000),
    "width=256": ("width", "256", "model.hidden", [256, 32], 0.91, 4.0, 20, 0.004, 40_000),
}


def ablation_frames(
    *, seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 40, n_classes: int = 10,
    failed: tuple[str, int] | None = None, diverged: tuple[str, int] | None = None,
    pending: tuple[str, int] | None = None, validation_is_test: bool = False,
    skipped_variant: str | None = None,
) -> StudyFrames:
    """A baseline and three factors over `seeds`, with known onsets (see VARIANTS)."""
    rng = np.random.default_rng(0)
    trials, epoch_rows, finals, variants = [], [], [], []
    for order, (name, (factor, level, path, value, ceiling, tau, onset, noise, params)) in enumerate(
            VARIANTS.items()):
        config = BASE_CONFIG if path is None else _set(BASE_CONFIG, path, value)
        budget_ok = name != skipped_variant
        variants.append({
            "variant": name, "factor": factor, "level": level, "is_baseline": factor is None,
            "params": params, "macs": params, "flops": 2 * params, "budget_ok": budget_ok,
            "budget_reason": "" if budget_ok else "params 40000 > max_params 20000", "order": order,
        })
        if not budget_ok:
            continue
        for seed in seeds:
            key = _key(name, seed)
            status = "completed"
            if (name, seed) == failed:
                status = "failed"
            elif (name, seed) == pending:
                status = "pending"
            elif (name, seed) == diverged:
                status = "diverged"
            shift = 0.01 * (seed - 1)  # a seed effect shared by every variant: the pairing removes it
            rows = [] if status in ("failed", "pending") else curve_rows(
                key, name, seed, epochs=epochs, ceiling=ceiling + shift, tau=tau, onset=onset,
                noise=noise, rng=rng, diverge_at=5 if status == "diverged" else None)
            epoch_rows += rows
            trials.append({
                "trial_key": key, "variant": name, "factor": factor, "level": level,
                "is_baseline": factor is None, "seed": seed, "status": status, "stop_reason": "",
                "error": "RuntimeError: out of memory" if status == "failed" else None,
                "params": params, "macs": params, "flops": 2 * params, "train_flops": 6 * params,
                "seconds": sum(r["seconds"] for r in rows), "best_epoch": None,
                "config": json.dumps(config, sort_keys=True),
            })
            if status != "completed":
                continue
            per_class = np.clip(ceiling + shift - 0.02 + 0.04 * rng.random(n_classes)
                                - 0.05 * (np.arange(n_classes) == 3) * (name == "dropout=0.5"), 0, 1)
            confusion = np.diag((per_class * 30).round().astype(int))
            confusion[:, 0] += 30 - confusion.sum(axis=1)
            test_accuracy = float(per_class.mean())
            finals.append({
                "trial_key": key, "variant": name, "seed": seed, "test_loss": 2.0 - test_accuracy,
                "test_accuracy": test_accuracy, "best_test_loss": 2.0 - test_accuracy,
                "best_test_accuracy": test_accuracy, "val_loss": rows[-1]["val_loss"],
                "val_accuracy": rows[-1]["val_accuracy"], "per_class_val": list(per_class),
                "per_class_test": list(per_class), "confusion_val": confusion.tolist(),
                "confusion_test": confusion.tolist(),
            })
    study = {
        "name": "synthetic-ablation", "description": "A hand-built ablation with known answers.",
        "design": "ablation", "seeds": list(seeds), "data": BASE_CONFIG["data"],
        "validation_is_test": validation_is_test, "running": pending is not None,
        "created": "2025-01-01T00:00:00", "updated": "2025-01-01T00:10:00",
    }
    return StudyFrames(trials=pd.DataFrame(trials), epochs=pd.DataFrame(epoch_rows),
                       finals=pd.DataFrame(finals), variants=pd.DataFrame(variants), study=study)


def regression_frames(*, seeds: tuple[int, ...] = (0, 1, 2), epochs: int = 30) -> StudyFrames:
    """A regression ablation (no accuracies): the baseline and one learning-rate level."""
    rng = np.random.default_rng(1)
    trials, rows, finals, variants = [], [], [], []
    specs = {"baseline": (None, None, 0.01, 5.0, 12),
             "learning rate=0.1": ("learning rate", "0.1", 0.1, 2.0, 6)}
    for order, (name, (factor, level, lr, tau, onset)) in enumerate(specs.items()):
        variants.append({"variant": name, "factor": factor, "level": level, "is_baseline": factor is None,
                         "params": 121, "macs": 110, "flops": 220, "budget_ok": True, "budget_reason": "",
                         "order": order})
        for seed in seeds:
            key = _key(name, seed)
            for e in range(1, epochs + 1):
                train = np.exp(-e / tau) + 0.1
                val = np.exp(-e / tau) + 0.2 + (0.05 * (e - onset) if e > onset else 0.0)
                val += 0.002 * rng.standard_normal()
                rows.append({"trial_key": key, "variant": name, "seed": seed, "epoch": e, "train_loss": train,
                             "train_accuracy": None, "val_loss": val, "val_accuracy": None, "lr": lr,
                             "seconds": 0.2, "examples_per_s": 5000.0, "train_mse": train, "val_mse": val,
                             "val_mae": np.sqrt(val), "val_r2": 1 - val})
            trials.append({"trial_key": key, "variant": name, "factor": factor, "level": level,
                           "is_baseline": factor is None, "seed": seed, "status": "completed",
                           "stop_reason": "", "error": None, "params": 121, "macs": 110, "flops": 220,
                           "train_flops": 660, "seconds": 0.2 * epochs, "best_epoch": onset,
                           "config": json.dumps(_set(BASE_CONFIG, "train.optimizer.lr", lr))})
            finals.append({"trial_key": key, "variant": name, "seed": seed, "test_loss": 0.3 + 0.01 * seed,
                           "test_accuracy": None, "test_mse": 0.3 + 0.01 * seed + 0.05 * (lr > 0.05),
                           "test_mae": 0.5, "test_r2": 0.7, "val_loss": 0.3, "val_accuracy": None})
    study = {"name": "synthetic-regression", "description": "", "design": "ablation", "seeds": list(seeds),
             "data": {"dataset": "california-housing"}, "validation_is_test": False, "running": False}
    return StudyFrames(trials=pd.DataFrame(trials), epochs=pd.DataFrame(rows), finals=pd.DataFrame(finals),
                       variants=pd.DataFrame(variants), study=study)


def count_frames(levels: dict[str, dict], *, total: int = 135, test_total: int = 449,
                 seeds: tuple[int, ...] = (0, 1, 2), with_sizes: bool = True) -> StudyFrames:
    """A classification ablation whose accuracies are exact counts of a `total`-example validation set.

    levels: variant name -> {"val": [[correct per epoch] per seed], optional "train": [[train accuracy
    per epoch] per seed], "val_loss" / "train_loss": [[per epoch] per seed], "test": [correct per seed]}.
    "baseline" must be one of them; every other variant is a level of the factor named before its "=".
    with_sizes=False leaves out the confusion matrices, so the analysis cannot know the set sizes.
    """
    trials, epoch_rows, finals, variants = [], [], [], []
    for order, (name, spec) in enumerate(levels.items()):
        factor, _, level = name.partition("=") if name != "baseline" else (None, "", None)
        config = BASE_CONFIG if factor is None else _set(BASE_CONFIG, "model.dropout", 0.1 * (order + 1))
        variants.append({"variant": name, "factor": factor, "level": level, "is_baseline": factor is None,
                         "params": 1000 * (order + 1), "macs": 1000, "flops": 2000, "budget_ok": True,
                         "budget_reason": "", "order": order})
        for i, seed in enumerate(seeds):
            key = _key(name, seed)
            val = spec["val"][i]
            n_epochs = len(val)
            train = spec.get("train", [[min(1.0, 0.5 + 0.1 * e) for e in range(n_epochs)]] * len(seeds))[i]
            val_loss = spec.get("val_loss", [[1.0 / (e + 1) for e in range(n_epochs)]] * len(seeds))[i]
            train_loss = spec.get("train_loss", [[0.9 / (e + 1) for e in range(n_epochs)]] * len(seeds))[i]
            for e in range(n_epochs):
                epoch_rows.append({
                    "trial_key": key, "variant": name, "seed": seed, "epoch": e + 1,
                    "train_loss": train_loss[e], "train_accuracy": train[e], "val_loss": val_loss[e],
                    "val_accuracy": val[e] / total, "lr": 0.01, "seconds": 0.1, "examples_per_s": 1000.0,
                })
            trials.append({
                "trial_key": key, "variant": name, "factor": factor, "level": level,
                "is_baseline": factor is None, "seed": seed, "status": "completed", "stop_reason": "",
                "error": None, "params": 1000, "macs": 1000, "flops": 2000, "train_flops": 6000,
                "seconds": 0.1 * n_epochs, "best_epoch": None, "config": json.dumps(config, sort_keys=True),
            })
            test_correct = spec.get("test", [test_total - 10] * len(seeds))[i]
            final = {"trial_key": key, "variant": name, "seed": seed, "test_loss": 0.1,
                     "test_accuracy": test_correct / test_total, "val_accuracy": val[-1] / total}
            if with_sizes:
                final["confusion_val"] = [[val[-1], total - val[-1]], [0, 0]]
                final["confusion_test"] = [[test_correct, test_total - test_correct], [0, 0]]
            finals.append(final)
    study = {"name": "synthetic-counts", "description": "", "design": "ablation", "seeds": list(seeds),
             "data": {"dataset": "digits"}, "validation_is_test": False, "running": False}
    return StudyFrames(trials=pd.DataFrame(trials), epochs=pd.DataFrame(epoch_rows),
                       finals=pd.DataFrame(finals), variants=pd.DataFrame(variants), study=study)


def rising(final: int, epochs: int = 6, start: int = 100) -> list[int]:
    """Validation counts climbing to `final` at the last epoch (strictly increasing, then held)."""
    return [min(final, start + 8 * e) for e in range(epochs - 1)] + [final]
