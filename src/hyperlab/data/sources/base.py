"""What every dataset source provides: static metadata, a loader, and where its files are."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hyperlab.data.dataset import Dataset
from hyperlab.data.splits import Task


@dataclass(frozen=True)
class LoadOptions:
    """Everything a loader may need besides the dataset's name."""

    root: Path | None = None  # data root with official files (data.root or $HYPERLAB_DATA)
    n: int = 200  # synthetic sets: points generated (train + test)
    noise: float = 0.0  # synthetic sets: std of Gaussian noise added to the points
    seed: int = 0  # synthetic sets: generator seed


@dataclass(frozen=True)
class Source:
    """One registered dataset. The metadata are static so that `describe` never decodes arrays."""

    name: str
    task: Task
    input_shape: tuple[int, ...]  # one example in torch layout
    classes: tuple[str, ...]  # empty for regression
    n_train: int | None  # official training examples (all examples when n_test is None); None: cfg.n
    n_test: int | None  # official test examples; None: make_splits holds out data.test_fraction
    load: Callable[[LoadOptions], Dataset]
    locate: Callable[[LoadOptions], tuple[str, str]]  # (where it is, how it is verified); no hashing
    summary: str = ""


def fixed_location(where: str, verified: str = "-") -> Callable[[LoadOptions], tuple[str, str]]:
    return lambda _options: (where, verified)
