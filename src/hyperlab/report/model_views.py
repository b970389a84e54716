"""Figures of what the trained models predict: decision boundaries (2-D data) and test predictions
(images), drawn from the predictions each trial stored at its end.

The engine writes `<workspace>/artifacts/trials/<key>/predictions.json` when a trial ends (the
decision-boundary grid for 2-D classification, the predicted classes of the first test examples,
the confusion matrices; hyperlab.engine.predictions), and the store records its SHA-256. This
module only reads and draws those documents: it never rebuilds a model. Anything missing gives a
note, not an error.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperlab.analysis.results import StudyAnalysis
from hyperlab.report.figures import RC, FigureFile, _figure, save

PREDICTIONS = "predictions.json"


@dataclass(frozen=True)
class ModelView:
    """The figure drawn from stored predictions, or why there is none."""

    figure: FigureFile | None
    note: str


def model_view(analysis: StudyAnalysis, folder: Path, artifacts_dir: Path | None) -> ModelView:
    """Decision boundaries of every variant for 2-D data, predictions of the best variant for images."""
    if artifacts_dir is None or not Path(artifacts_dir).is_dir():
        return ModelView(None, "No artifacts folder was given, so the trained models are not drawn.")
    if analysis.task != "classification":
        return ModelView(None, "Model views are drawn for 2-D and image classification data only.")
    documents = {v.name: _predictions(analysis, v.name, Path(artifacts_dir)) for v in analysis.variants}
    found = {name: doc for name, doc in documents.items() if doc is not None}
    if not found:
        return ModelView(None, "No trial stored its predictions, so the trained models are not drawn.")
    if any("grid" in doc[1] for doc in found.values()):
        return _decision_boundaries(analysis, folder, found)
    return _image_predictions(analysis, folder, found)


def _predictions(analysis: StudyAnalysis, variant: str, artifacts_dir: Path) -> tuple | None:
    """(trial, predictions document) of the variant's first seed that stored one, or None."""
    trials = sorted((d for d in analysis.trials if d.variant == variant), key=lambda d: d.seed)
    for trial in trials:
        path = artifacts_dir / "trials" / trial.trial_key / PREDICTIONS
        if path.is_file():
            try:
                return trial, json.loads(path.read_text())
            except (OSError, ValueError):
                continue
    return None


def _points(analysis: StudyAnalysis) -> tuple[np.ndarray, np.ndarray] | None:
    """The study's training and validation points and labels, for the scatter over the grid."""
    try:
        import torch

        from hyperlab.data import DataConfig, make_splits

        data = {k: v for k, v in (analysis.study.get("data") or {}).items() if k != "root"}
        splits = make_splits(DataConfig.model_validate(data))
        return (torch.cat([splits.x_train, splits.x_val]).cpu().numpy(),
                torch.cat([splits.y_train, splits.y_val]).cpu().numpy())
    except Exception:  # the points are a courtesy: the boundaries are drawn without them
        return None


def _decision_boundaries(analysis: StudyAnalysis, folder: Path, found: dict[str, tuple]) -> ModelView:
    import matplotlib as mpl

    panels = [(name, trial, doc["grid"]) for name, (trial, doc) in found.items() if "grid" in doc]
    points = _points(analysis)
    with mpl.rc_context(RC):
        n_cols = min(4, len(panels))
        n_rows = -(-len(panels) // n_cols)
        fig = _figure(3.2 * n_cols, 3.0 * n_rows)
        axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, (name, trial, grid) in zip(axes, panels, strict=False):
            xs = np.linspace(*grid["x"][:2], int(grid["x"][2]))
            ys = np.linspace(*grid["y"][:2], int(grid["y"][2]))
            # rasterized: a vector mesh of the whole grid made this SVG ~100 MB
            ax.pcolormesh(xs, ys, np.asarray(grid["predicted"]), cmap="Paired", shading="auto", alpha=0.8,
                          rasterized=True)
            if points is not None:
                x, y = points
                ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="black", linewidths=0.3)
            accuracy = f"{100 * trial.best_val_accuracy:.1f}%" if trial.best_val_accuracy is not None else ""
            role = " (baseline)" if name == analysis.baseline and name != "baseline" else ""
            ax.set_title(f"{name}{role}\nseed {trial.seed}, kept weights (best val {accuracy})", fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    figure = save(fig, folder, "decision-boundaries", "Decision boundaries",
                  "The class each model predicts over the plane with the weights its trial keeps (one seed "
                  "per variant), with the training and validation points coloured by their true class.")
    missing = len(analysis.variants) - len(panels)
    return ModelView(figure, f"{missing} variant(s) stored no predictions and are not drawn." if missing
                     else "")


def _image_predictions(analysis: StudyAnalysis, folder: Path, found: dict[str, tuple]) -> ModelView:
    import matplotlib as mpl

    name = analysis.best_variant
    if name not in found:
        return ModelView(None, "The best variant stored no predictions, so none are shown.")
    trial, doc = found[name]
    samples = doc.get("test_samples") or {}
    images = _test_images(analysis, samples.get("indices", []))
    if images is None:
        return ModelView(None, "The test images could not be loaded, so no predictions are shown.")
    truth, predicted, classes = samples["truth"], samples["predicted"], doc.get("classes") or []
    with mpl.rc_context(RC):
        n_cols = 8
        n_rows = -(-len(images) // n_cols)
        fig = _figure(1.3 * n_cols, 1.5 * n_rows)
        axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, image, t, p in zip(axes, images, truth, predicted, strict=False):
            picture = (image[..., None] if image.ndim == 2 else image).astype(np.float32)  # H, W, C
            if picture.shape[2] != 3:  # 1 channel, or a count imshow cannot colour: the first one, grey
                picture = picture[..., :1]
            picture = (picture - picture.min()) / max(float(picture.max() - picture.min()), 1e-8)
            ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture,
                      cmap="gray" if picture.shape[2] == 1 else None)
            ax.set_title(f"{_label(classes, t)} -> {_label(classes, p)}", fontsize=7,
                         color="#1a7f37" if t == p else "#c62828")
            ax.axis("off")
        for ax in axes[len(images):]:
            ax.set_visible(False)
    figure = save(fig, folder, "predictions", "Test predictions of the best variant",
                  f"The first {len(images)} test images with true -> predicted class for {name} "
                  f"(seed {trial.seed}); red marks a mistake.")
    return ModelView(figure, "")


def _label(classes: list[str], index: int) -> str:
    return classes[index] if index < len(classes) else str(index)


def _test_images(analysis: StudyAnalysis, indices: list[int]) -> np.ndarray | None:
    if not indices:
        return None
    try:
        from hyperlab.data import DataConfig, describe
        from hyperlab.data.build import raw_test_examples

        data = DataConfig.model_validate({k: v for k, v in (analysis.study.get("data") or {}).items()
                                          if k != "root"})
        if len(describe(data).input_shape) != 3:
            return None
        # as stored (N, H, W[, C]), unscaled: each picture is stretched to its own range when drawn
        return raw_test_examples(data, list(indices))
    except Exception:  # the data are not available here: say so instead of drawing
        return None
