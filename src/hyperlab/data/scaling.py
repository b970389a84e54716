"""Input scaling as one affine map per channel (images) or feature (tables): x' = (x - offset) * factor.

The statistics come from the training split only, so validation and test examples never leak into
them. For images the known value range (0..255, or 0..16 for digits) defines unit and symmetric;
for tables it is the training split's min and max per feature.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch

METHODS = ("unit", "symmetric", "standardize", "none")


@dataclass(frozen=True)
class Affine:
    method: str
    offset: np.ndarray  # (channels,) or (features,), float64
    factor: np.ndarray

    def as_info(self) -> dict:
        return {"method": self.method, "offset": self.offset.tolist(), "factor": self.factor.tolist()}

    def apply_images_(self, images: torch.Tensor) -> torch.Tensor:
        """Scale float32 (N, C, H, W) images in place."""
        import torch

        shape = (1, -1, 1, 1)
        offset = torch.tensor(self.offset, dtype=images.dtype, device=images.device).view(shape)
        factor = torch.tensor(self.factor, dtype=images.dtype, device=images.device).view(shape)
        return images.sub_(offset).mul_(factor)

    def apply_table(self, x: np.ndarray) -> np.ndarray:
        """Scaled float32 copy of an (N, F) table (computed in float64)."""
        return ((x.astype(np.float64) - self.offset) * self.factor).astype(np.float32)


def _affine(method: str, lo: np.ndarray, hi: np.ndarray, mean: np.ndarray, std: np.ndarray) -> Affine:
    if method == "none":
        return Affine(method, np.zeros_like(lo), np.ones_like(lo))
    if method == "standardize":
        return Affine(method, mean, 1.0 / np.where(std > 0, std, 1.0))  # a constant input maps to 0
    span = np.where(hi > lo, hi - lo, 1.0)
    if method == "unit":
        return Affine(method, lo, 1.0 / span)
    if method == "symmetric":
        return Affine(method, (lo + hi) / 2, 2.0 / span)
    raise ValueError(f"scale: unknown method {method!r}; allowed: {', '.join(METHODS)}")


def fit_images(images: torch.Tensor, method: str, value_range: tuple[float, float]) -> Affine:
    """Per-channel map from raw float32 (N, C, H, W) training images.

    Sums run over contiguous rows of one image and channel (exact in float32 for 8-bit pixels up to
    65,000 pixels a row), then over images in float64: no float64 copy of the images is made.
    """
    import torch

    n, channels = images.shape[:2]
    lo, hi = np.full(channels, float(value_range[0])), np.full(channels, float(value_range[1]))
    mean = std = np.zeros(channels)
    if method == "standardize" and n > 0:
        rows = images.flatten(2)  # N, C, H*W (a view)
        count = n * rows.shape[2]
        total = rows.sum(dim=2).double().sum(dim=0).cpu().numpy()
        total_sq = torch.linalg.vector_norm(rows, dim=2).double().square().sum(dim=0).cpu().numpy()
        mean = total / count
        std = np.sqrt(np.maximum(total_sq / count - mean**2, 0.0))
    return _affine(method, lo, hi, mean, std)


def fit_table(x: np.ndarray, method: str) -> Affine:
    """Per-feature map from a raw (N, F) training table."""
    x = x.reshape(len(x), -1).astype(np.float64)
    if len(x) == 0:
        zeros = np.zeros(x.shape[1])
        return _affine("none", zeros, zeros, zeros, zeros)
    return _affine(method, x.min(axis=0), x.max(axis=0), x.mean(axis=0), x.std(axis=0))
