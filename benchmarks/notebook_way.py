"""The "notebook way" reference, as notebooks 002 and 004 train: a per-sample Dataset whose __getitem__
converts one uint8 HWC image with ToTensor + Normalize((0.5,)*3, (0.5,)*3), a torch DataLoader
(shuffle, main process), and the tutorial loop with `loss.item()` after every step.

torchvision is not a dependency, so its two transforms are written out here with the same arithmetic.
"""

from __future__ import annotations

import time

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset


def to_tensor(image: np.ndarray) -> torch.Tensor:
    """torchvision.transforms.ToTensor on an (H, W, C) uint8 array: (C, H, W) float in [0, 1]."""
    return torch.from_numpy(image).permute(2, 0, 1).contiguous().to(torch.float32).div(255)


class Normalize:
    """torchvision.transforms.Normalize: (x - mean) / std per channel."""

    def __init__(self, mean: tuple[float, ...], std: tuple[float, ...]) -> None:
        self.mean = torch.tensor(mean).view(-1, 1, 1)
        self.std = torch.tensor(std).view(-1, 1, 1)

    def __call__(self, tensor: torch.Tensor) -> torch.Tensor:
        return (tensor - self.mean) / self.std


class PerSampleImages(Dataset):
    """CIFAR-10 as torchvision.datasets.CIFAR10 serves it: one transformed example per index."""

    def __init__(self, images: np.ndarray, labels: np.ndarray) -> None:
        self.images, self.labels = images, labels  # (N, H, W, C) uint8, (N,)
        self.normalize = Normalize((0.5, 0.5, 0.5), (0.5, 0.5, 0.5))

    def __len__(self) -> int:
        return len(self.labels)

    def __getitem__(self, index: int) -> tuple[torch.Tensor, int]:
        return self.normalize(to_tensor(self.images[index])), int(self.labels[index])


class NotebookLoop:
    """The tutorial's training loop over a DataLoader; `window(steps)` trains `steps` batches."""

    def __init__(self, model: nn.Module, images: np.ndarray, labels: np.ndarray, batch_size: int,
                 lr: float, momentum: float, seed: int = 0) -> None:
        self.model = model
        generator = torch.Generator().manual_seed(seed)
        self.loader = DataLoader(PerSampleImages(images, labels), batch_size=batch_size, shuffle=True,
                                 num_workers=0, generator=generator)
        self.iterator = iter(self.loader)
        self.criterion = nn.CrossEntropyLoss()
        self.optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        self.running_loss = 0.0

    def _next(self) -> tuple[torch.Tensor, torch.Tensor]:
        try:
            return next(self.iterator)
        except StopIteration:  # a new epoch
            self.iterator = iter(self.loader)
            return next(self.iterator)

    def window(self, steps: int) -> tuple[int, float]:
        self.model.train()
        examples = 0
        started = time.perf_counter()
        for _ in range(steps):
            inputs, labels = self._next()
            self.optimizer.zero_grad()
            outputs = self.model(inputs)
            loss = self.criterion(outputs, labels)
            loss.backward()
            self.optimizer.step()
            self.running_loss += loss.item()  # the tutorial's running loss: one host sync per step
            examples += len(labels)
        return examples, time.perf_counter() - started
