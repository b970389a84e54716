"""Splits: the tensors a trial trains on, built once per (data config, device)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal

if TYPE_CHECKING:  # torch loads where tensors are used, so configs validate without it
    import torch

Task = Literal["classification", "regression"]


@dataclass
class Splits:
    """Train / validation / test tensors, ready for the training loop.

    Images are float32 (N, C, H, W); tabular and 2-D sets float32 (N, F). Classification labels are
    int64 (N,); regression targets float32 (N,) or (N, k). All tensors live on one device.
    """

    task: Task
    input_shape: tuple[int, ...]  # one example, e.g. (3, 32, 32) or (8,)
    classes: list[str]  # class names; empty for regression
    x_train: torch.Tensor
    y_train: torch.Tensor
    x_val: torch.Tensor
    y_val: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor
    val_is_test: bool = False  # validation = "test": selection on the test set (flagged in reports)
    info: dict = field(default_factory=dict)  # provenance: dataset name, source path, verified hashes

    @property
    def n_outputs(self) -> int:
        """Width of the model's output layer: classes, or regression targets."""
        if self.task == "classification":
            return len(self.classes)
        return 1 if self.y_train.ndim == 1 else int(self.y_train.shape[1])

    def to(self, device: torch.device | str) -> Splits:
        """The same splits with every tensor on `device`."""
        moved = {
            k: getattr(self, k).to(device)
            for k in ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")
        }
        return Splits(self.task, self.input_shape, self.classes, **moved,
                      val_is_test=self.val_is_test, info=dict(self.info))
