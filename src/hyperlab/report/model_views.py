"""Figures that need the trained weights: decision boundaries (2-D data) and test predictions (images).

The runner keeps each trial's weights at `<workspace>/artifacts/trials/<key>/checkpoint.safetensors`
and the resolved config in trials.config. The model is rebuilt with `hyperlab.models.build_model`
and the weights loaded with safetensors (no pickle). Anything missing gives a note, not an error.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperlab.analysis.results import StudyAnalysis
from hyperlab.report.figures import RC, FigureFile, _figure, save

GRID_POINTS = 200  # decision-boundary resolution per axis
IMAGES_SHOWN = 24
CHECKPOINT = "checkpoint.safetensors"


@dataclass(frozen=True)
class ModelView:
    """The figure drawn from trained weights, or why there is none."""

    figure: FigureFile | None
    note: str


def model_view(analysis: StudyAnalysis, folder: Path, artifacts_dir: Path | None) -> ModelView:
    """Decision boundaries of every variant for 2-D data, predictions of the best variant for images."""
    if artifacts_dir is None or not Path(artifacts_dir).is_dir():
        return ModelView(None, "No artifacts folder was given, so the trained models are not drawn.")
    if not analysis.configs:
        return ModelView(None, "The store holds no trial configs, so the trained models cannot be rebuilt.")
    try:
        import torch  # noqa: F401  (the engine's dependency; imported lazily to keep reports light)

        from hyperlab.data import make_splits
        from hyperlab.engine import TrialConfig
    except ImportError as exc:
        return ModelView(None, f"The trained models are not drawn: {exc}.")
    any_config = TrialConfig.from_stored(next(iter(analysis.configs.values())))
    splits = make_splits(any_config.data)
    if tuple(splits.input_shape) == (2,) and analysis.task == "classification":
        return _decision_boundaries(analysis, folder, Path(artifacts_dir), splits)
    if len(splits.input_shape) == 3 and analysis.task == "classification":
        return _image_predictions(analysis, folder, Path(artifacts_dir), splits)
    return ModelView(None, "Model views are drawn for 2-D and image classification data only.")


def _load(analysis: StudyAnalysis, variant: str, artifacts_dir: Path, splits) -> tuple | None:
    """The trained model of the variant's first usable seed, or None if its checkpoint is missing."""
    from safetensors.torch import load_file

    from hyperlab.engine import TrialConfig
    from hyperlab.models import build_model

    trials = sorted((d for d in analysis.trials if d.variant == variant), key=lambda d: d.seed)
    for trial in trials:
        path = artifacts_dir / "trials" / trial.trial_key / CHECKPOINT
        if not path.is_file():
            continue
        config = TrialConfig.from_stored(analysis.configs[variant])
        model = build_model(config.model, tuple(splits.input_shape), splits.n_outputs, trial.seed)
        model.load_state_dict(_model_state(load_file(str(path)), model.state_dict().keys()))
        return trial, model.eval()
    return None


def _model_state(tensors: dict, expected) -> dict:
    """The model's tensors out of a checkpoint that may also hold optimizer state under a prefix."""
    expected = set(expected)
    if expected <= set(tensors):
        return {k: tensors[k] for k in expected}
    for prefix in ("model.", "model/", "module."):
        stripped = {k[len(prefix):]: v for k, v in tensors.items() if k.startswith(prefix)}
        if expected <= set(stripped):
            return {k: stripped[k] for k in expected}
    return tensors  # let load_state_dict name what is missing


def _decision_boundaries(analysis: StudyAnalysis, folder: Path, artifacts_dir: Path, splits) -> ModelView:
    import matplotlib as mpl
    import torch

    x = torch.cat([splits.x_train, splits.x_val]).cpu().numpy()
    y = torch.cat([splits.y_train, splits.y_val]).cpu().numpy()
    lo, hi = x.min(axis=0), x.max(axis=0)
    margin = 0.1 * (hi - lo)
    xx, yy = np.meshgrid(np.linspace(lo[0] - margin[0], hi[0] + margin[0], GRID_POINTS),
                         np.linspace(lo[1] - margin[1], hi[1] + margin[1], GRID_POINTS))
    grid = torch.from_numpy(np.c_[xx.ravel(), yy.ravel()].astype(np.float32))
    panels = []
    for v in analysis.variants:
        loaded = _load(analysis, v.name, artifacts_dir, splits)
        if loaded is None:
            continue
        trial, model = loaded
        with torch.no_grad():
            predicted = model(grid).argmax(dim=1).numpy().reshape(xx.shape)
        panels.append((v.name, trial, predicted))
    if not panels:
        return ModelView(None, "No checkpoint was found for any variant, so no decision boundary is drawn.")
    with mpl.rc_context(RC):
        n_cols = min(4, len(panels))
        n_rows = -(-len(panels) // n_cols)
        fig = _figure(3.2 * n_cols, 3.0 * n_rows)
        axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, (name, trial, predicted) in zip(axes, panels, strict=False):
            # rasterized: a vector mesh of the whole grid made this SVG ~100 MB
            ax.pcolormesh(xx, yy, predicted, cmap="Paired", shading="auto", alpha=0.8, rasterized=True)
            ax.scatter(x[:, 0], x[:, 1], c=y, cmap="coolwarm", s=8, edgecolors="black", linewidths=0.3)
            accuracy = f"{100 * trial.best_val_accuracy:.1f}%" if trial.best_val_accuracy is not None else ""
            role = " (baseline)" if name == analysis.baseline and name != "baseline" else ""
            title = f"{name}{role}\nseed {trial.seed}, last epoch (best val {accuracy})"
            ax.set_title(title, fontsize=8)
            ax.set_xticks([])
            ax.set_yticks([])
        for ax in axes[len(panels):]:
            ax.set_visible(False)
    figure = save(fig, folder, "decision-boundaries", "Decision boundaries",
                  "The class each model predicts over the plane after its last epoch (one seed per "
                  "variant), with the training and validation points coloured by their true class.")
    missing = len(analysis.variants) - len(panels)
    return ModelView(figure, f"{missing} variant(s) have no checkpoint and are not drawn." if missing else "")


def _image_predictions(analysis: StudyAnalysis, folder: Path, artifacts_dir: Path, splits) -> ModelView:
    import matplotlib as mpl
    import torch

    name = analysis.best_variant
    loaded = _load(analysis, name, artifacts_dir, splits) if name else None
    if loaded is None:
        return ModelView(None, "The best variant's checkpoint was not found, so no predictions are shown.")
    trial, model = loaded
    images = splits.x_test[:IMAGES_SHOWN].cpu()
    truth = splits.y_test[:IMAGES_SHOWN].cpu().numpy()
    with torch.no_grad():
        predicted = model(images).argmax(dim=1).numpy()
    classes = splits.classes or [str(i) for i in range(splits.n_outputs)]
    with mpl.rc_context(RC):
        n_cols = 8
        n_rows = -(-len(images) // n_cols)
        fig = _figure(1.3 * n_cols, 1.5 * n_rows)
        axes = np.atleast_1d(fig.subplots(n_rows, n_cols, squeeze=False)).ravel()
        for ax, image, t, p in zip(axes, images.numpy(), truth, predicted, strict=False):
            picture = np.transpose(image, (1, 2, 0))
            picture = (picture - picture.min()) / max(float(picture.max() - picture.min()), 1e-8)
            ax.imshow(picture[..., 0] if picture.shape[2] == 1 else picture,
                      cmap="gray" if picture.shape[2] == 1 else None)
            ax.set_title(f"{classes[t]} -> {classes[p]}", fontsize=7,
                         color="#1a7f37" if t == p else "#c62828")
            ax.axis("off")
        for ax in axes[len(images):]:
            ax.set_visible(False)
    figure = save(fig, folder, "predictions", "Test predictions of the best variant",
                  f"The first {len(images)} test images with true -> predicted class for {name} "
                  f"(seed {trial.seed}); red marks a mistake.")
    return ModelView(figure, "")
