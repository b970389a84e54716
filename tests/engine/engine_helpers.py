"""Helpers shared by the engine tests: digits as Splits, a tiny MLP, a fast recipe."""

from __future__ import annotations

import torch
from sklearn.datasets import load_digits
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine import TIMING_KEYS, TrainConfig


def digits_splits(images: bool = False) -> Splits:
    """scikit-learn's digits (pixels scaled to [0, 1]): 1200 train, 300 validation, 297 test."""
    x, y = load_digits(return_X_y=True)  # 1797 examples, 8x8 pixels in 0..16
    inputs = torch.tensor(x / 16.0, dtype=torch.float32)
    labels = torch.tensor(y, dtype=torch.int64)
    order = torch.randperm(len(labels), generator=torch.Generator().manual_seed(0))
    inputs, labels = inputs[order], labels[order]
    if images:
        inputs = inputs.reshape(-1, 1, 8, 8)
    return Splits("classification", tuple(inputs.shape[1:]), [str(d) for d in range(10)],
                  inputs[:1200], labels[:1200], inputs[1200:1500], labels[1200:1500],
                  inputs[1500:], labels[1500:], info={"dataset": "digits"})


def mlp(seed: int = 0, hidden: int = 32, outputs: int = 10, dropout: float = 0.0) -> nn.Module:
    """A plain torch MLP on 64 features (or 1x8x8 images) with seeded initial weights."""
    torch.manual_seed(seed)
    return nn.Sequential(nn.Flatten(), nn.Linear(64, hidden), nn.ReLU(), nn.Dropout(dropout),
                         nn.Linear(hidden, outputs))


def train_config(**changes) -> TrainConfig:
    """A fast digits recipe: 4 epochs of SGD with momentum, batch 64, on the CPU."""
    settings = {"epochs": 4, "batch_size": 64,
                "optimizer": {"name": "sgd", "lr": 0.1, "momentum": 0.9}}
    settings.update(changes)
    return TrainConfig(**settings)


def metrics_only(records: list[dict]) -> list[dict]:
    """Epoch records without wall-clock timings (the only values that differ between equal runs)."""
    return [{k: v for k, v in r.items() if k not in TIMING_KEYS} for r in records]
