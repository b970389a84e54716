"""What the report draws from a trained model, computed once by the engine at a trial's end and
stored as data (`predictions.json` beside the checkpoint, with its SHA-256 in the store), so the
report never rebuilds a model: a decision-boundary grid for 2-D classification, the predictions of
the first test examples, and the confusion matrices (validation and test)."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path

import torch
from torch import nn

from hyperlab.data.splits import Splits
from hyperlab.engine.checkpoint import _write_atomic
from hyperlab.engine.evaluate import predict
from hyperlab.engine.losses import LossChoice

PREDICTIONS_FILE = "predictions.json"
GRID_POINTS = 200  # decision-boundary resolution per axis
SAMPLES = 24  # test examples whose predictions are kept
FORMAT = 1


def trial_predictions(model: nn.Module, splits: Splits, loss: LossChoice, batch_size: int,
                      autocast: Callable[[], AbstractContextManager], final: dict) -> dict:
    """The predictions document of `model` (holding the weights the trial keeps)."""
    document: dict = {"format": FORMAT, "weights": "kept (best when early stopping restores them, else last)"}
    if splits.task != "classification":
        return document
    document["classes"] = list(splits.classes) or [str(i) for i in range(splits.n_outputs)]
    shown = splits.x_test[:SAMPLES]
    document["test_samples"] = {
        "indices": list(range(len(shown))),
        "truth": splits.y_test[:SAMPLES].tolist(),
        "predicted": loss.predict(predict(model, shown, batch_size, autocast)).tolist(),
    }
    document["confusion_val"] = final.get("confusion_val")
    document["confusion_test"] = final.get("confusion_test")
    if tuple(splits.input_shape) == (2,):
        document["grid"] = _grid(model, splits, loss, batch_size, autocast)
    return document


def _grid(model: nn.Module, splits: Splits, loss: LossChoice, batch_size: int,
          autocast: Callable[[], AbstractContextManager]) -> dict:
    """The predicted class over the plane spanned by the training and validation points (+10%)."""
    points = torch.cat([splits.x_train, splits.x_val])
    lo, hi = points.min(dim=0).values, points.max(dim=0).values
    margin = 0.1 * (hi - lo)
    lo, hi = (lo - margin).tolist(), (hi + margin).tolist()
    xs = torch.linspace(lo[0], hi[0], GRID_POINTS, device=points.device)
    ys = torch.linspace(lo[1], hi[1], GRID_POINTS, device=points.device)
    yy, xx = torch.meshgrid(ys, xs, indexing="ij")  # row i: y = ys[i]; column j: x = xs[j]
    grid = torch.stack([xx.reshape(-1), yy.reshape(-1)], dim=1)
    predicted = loss.predict(predict(model, grid, batch_size, autocast)).reshape(GRID_POINTS, GRID_POINTS)
    return {"x": [lo[0], hi[0], GRID_POINTS], "y": [lo[1], hi[1], GRID_POINTS],
            "predicted": predicted.tolist()}


def write_predictions(workdir: Path, document: dict) -> None:
    """`predictions.json` in `workdir`, atomically."""
    workdir.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, separators=(",", ":"), allow_nan=False)
    os.replace(_write_atomic(workdir / PREDICTIONS_FILE, text.encode()), workdir / PREDICTIONS_FILE)
