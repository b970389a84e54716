"""Dataset (raw arrays as a source gives them) and DataInfo (what planning needs, without arrays)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from hyperlab.data.splits import Task

ARRAY_KEYS = ("x_train", "y_train", "x_test", "y_test")  # the Keras layout


@dataclass
class Dataset:
    """Raw arrays of one dataset, as the source publishes them.

    Images are uint8 (N, H, W, C) or (N, H, W); tabular and 2-D sets float32 (N, F). Classification
    labels are integers (N,), regression targets float32 (N,). Sets without an official test split
    (california-housing, the synthetic ones) have `x_test`/`y_test` None: `make_splits` holds out
    `test_fraction` of them.
    """

    name: str
    task: Task
    classes: list[str]  # index -> name; empty for regression
    x_train: np.ndarray
    y_train: np.ndarray
    x_test: np.ndarray | None = None
    y_test: np.ndarray | None = None
    value_range: tuple[float, float] | None = None  # known range of x (images 0..255); None: from data
    source: str = ""  # where the arrays came from: a cache file, an archive, "scikit-learn", ...
    verified: str = ""  # how they were checked, e.g. "sha256 = published"; "" when not checked
    sha256: dict[str, str] = field(default_factory=dict)  # per array, when known
    feature_names: list[str] = field(default_factory=list)  # tabular sets

    @property
    def is_image(self) -> bool:
        return self.x_train.ndim in (3, 4)

    @property
    def input_shape(self) -> tuple[int, ...]:
        """One example in torch layout: (C, H, W) for images, (F,) otherwise."""
        return input_shape_of(self.x_train.shape)


def input_shape_of(array_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Torch layout of one example, from the shape of a raw array (NHWC, NHW or NF)."""
    if len(array_shape) == 4:  # N, H, W, C
        return (array_shape[3], array_shape[1], array_shape[2])
    if len(array_shape) == 3:  # N, H, W: grey images get a channel axis
        return (1, array_shape[1], array_shape[2])
    return tuple(array_shape[1:]) if len(array_shape) > 1 else (1,)


@dataclass(frozen=True)
class DataInfo:
    """What a data config yields, known without decoding the arrays (planning and `inspect` use it)."""

    task: Task
    input_shape: tuple[int, ...]  # one example in torch layout, e.g. (3, 32, 32) or (8,)
    classes: tuple[str, ...]  # empty for regression
    n_train: int  # examples trained on: after subset and after the validation hold-out
    n_test: int  # after test_subset
    n_val: int = 0  # validation examples (equal to n_test when validation = "test")
    dataset: str = ""

    @property
    def n_outputs(self) -> int:
        """Width of the model's output layer (same rule as `Splits.n_outputs`)."""
        return len(self.classes) if self.task == "classification" else 1
