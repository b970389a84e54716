"""Image augmentation on whole batches: one set of tensor ops per batch, per-example parameters.

All random parameters come from one generator on the batch's device, seeded by the trial seed ("augment"
stream) and drawn in a fixed order, so the same seed gives the same augmented batches (on the same
device) and the generator's state can be checkpointed. Nothing crosses between host and device.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from hyperlab.engine.config import Augment


class Augmenter:
    """Applies `Augment` to (N, C, H, W) batches: flip, then crop, then rotate/translate, then cutout."""

    def __init__(self, config: Augment, seed: int, device: torch.device | str = "cpu") -> None:
        self.config = config
        self.device = torch.device(device)
        self.generator = torch.Generator(device=self.device).manual_seed(seed)

    def _uniform(self, *shape: int) -> torch.Tensor:
        """Uniform in [-1, 1)."""
        return torch.rand(*shape, generator=self.generator, device=self.device) * 2 - 1

    def _randint(self, high: int, *shape: int) -> torch.Tensor:
        return torch.randint(0, high, shape, generator=self.generator, device=self.device)

    def __call__(self, images: torch.Tensor) -> torch.Tensor:
        cfg, device = self.config, self.device
        n, channels, height, width = images.shape
        if cfg.hflip:
            flip = torch.rand(n, generator=self.generator, device=device) < 0.5
            images = torch.where(flip.view(n, 1, 1, 1), images.flip(3), images)
        if cfg.crop_padding:
            pad = cfg.crop_padding
            offsets = self._randint(2 * pad + 1, 2, n)  # (2, N): top, left
            padded = F.pad(images, (pad, pad, pad, pad))  # (N, C, H + 2p, W + 2p)
            rows = (offsets[0, :, None] + torch.arange(height, device=device))  # (N, H)
            cols = (offsets[1, :, None] + torch.arange(width, device=device))  # (N, W)
            padded = padded.gather(2, rows[:, None, :, None].expand(n, channels, height, width + 2 * pad))
            images = padded.gather(3, cols[:, None, None, :].expand(n, channels, height, width))
        if cfg.rotate or cfg.translate:
            angle = self._uniform(n) * math.radians(cfg.rotate)
            shift = self._uniform(2, n) * cfg.translate * 2  # fraction of the size -> [-1, 1] coords
            cos, sin = angle.cos(), angle.sin()
            # Output -> input sampling matrix in normalised coordinates; the aspect-ratio factors keep
            # the rotation rigid in pixels when height != width.
            theta = torch.stack([
                torch.stack([cos, -sin * height / width, shift[0]], dim=1),
                torch.stack([sin * width / height, cos, shift[1]], dim=1),
            ], dim=1).to(images.dtype)  # (N, 2, 3)
            grid = F.affine_grid(theta, list(images.shape), align_corners=False)
            images = F.grid_sample(images, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
        if cfg.cutout:
            side = cfg.cutout
            top = self._randint(height, n) - side // 2  # a square centred on a random pixel
            left = self._randint(width, n) - side // 2
            ys = torch.arange(height, device=device)
            xs = torch.arange(width, device=device)
            in_rows = (ys >= top[:, None]) & (ys < top[:, None] + side)  # (N, H)
            in_cols = (xs >= left[:, None]) & (xs < left[:, None] + side)  # (N, W)
            keep = ~(in_rows[:, :, None] & in_cols[:, None, :])  # (N, H, W)
            images = images * keep[:, None].to(images.dtype)
        return images
