"""Data checked once, when it is loaded, before any trial sees it.

A bad file is the user's to fix, not a property of the hyperparameters: a label out of range, a NaN
pixel or an empty split must never become a `failed` or `diverged` trial (or an out-of-memory kill).
Every check raises UserError in one line naming the file and the array. The class count of an
unlabelled-classes file comes from its largest label, checked against the number of examples
before anything sized by it (class names, per-class counts, the output layer) is allocated.
"""

from __future__ import annotations

import numpy as np

from hyperlab.data.dataset import Dataset
from hyperlab.errors import UserError

ROWS_PER_CHECK = 65_536  # finite checks go through big arrays in slices: no full-size temporary


def label_range(what: str, labels: dict[str, np.ndarray], declared: int | None) -> int:
    """The number of classes the integer `labels` (name -> array) of `what` imply, after checking
    them: 1-D integers (an (N, 1) column counts as 1-D), at least 0, and below `declared` (the length
    of a `classes` array) when there is one; without one, the classes are y_train's (0 to its largest
    label), a test label must be one of them, and their count may not exceed the number of examples
    (a class that no example has cannot be learned, and a stray huge label would size the model by it)."""
    present = {k: _column(v) for k, v in labels.items() if v is not None and v.size}
    for name, y in present.items():
        if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise UserError(f"{what}: {name}: must be 1-D integer labels, got shape {tuple(y.shape)} "
                            f"{y.dtype}")
        low = int(y.min())
        if low < 0:
            raise UserError(f"{what}: {name}: labels must be 0..K-1, found {low}")
    if not present:
        return declared or 0
    if declared is not None:
        name, top = max(((n, int(y.max())) for n, y in present.items()), key=lambda item: item[1])
        if top >= declared:
            raise UserError(f"{what}: {name}: label {top} is out of range for the {declared} names in "
                            f"`classes` (labels must be 0..{declared - 1})")
        return declared
    name = "y_train" if "y_train" in present else next(iter(present))
    top = int(present[name].max())
    for other, y in present.items():
        if other != name and int(y.max()) > top:
            raise UserError(f"{what}: {other}: label {int(y.max())} is not a class of {name} (labels "
                            f"0..{top}); the splits must share their classes (or give a `classes` array)")
    examples = sum(y.size for y in present.values())
    if top + 1 > examples:
        raise UserError(f"{what}: {name}: largest label {top} would mean {top + 1:,} classes for "
                        f"{examples:,} examples; labels must be 0..K-1 (or give a `classes` array)")
    return top + 1


def _column(y: np.ndarray) -> np.ndarray:
    """Keras stores CIFAR labels as (N, 1): one label per example, as (N,)."""
    return y.reshape(-1) if y.ndim == 2 and y.shape[1] == 1 else y


def check_dataset(data: Dataset) -> None:
    """Shapes consistent, at least one example per split, values finite, labels in range."""
    what = data.source or data.name
    pairs = [("train", data.x_train, data.y_train)]
    if data.x_test is not None or data.y_test is not None:
        pairs.append(("test", data.x_test, data.y_test))
    for split, x, y in pairs:
        if x is None or y is None:
            raise UserError(f"{what}: x_{split} and y_{split} go together")
        if len(x) == 0:
            raise UserError(f"{what}: x_{split}: no examples (at least one is needed)")
        if len(x) != len(y):
            raise UserError(f"{what}: x_{split} has {len(x)} examples but y_{split} has {len(y)}")
        if x.shape[1:] != data.x_train.shape[1:]:
            raise UserError(f"{what}: x_{split}: examples of shape {x.shape[1:]}, but x_train's are "
                            f"{data.x_train.shape[1:]}")
        _check_finite(what, f"x_{split}", x)
        if data.task == "regression":
            _check_finite(what, f"y_{split}", y)
    if data.task == "classification":
        label_range(what, {f"y_{s}": y for s, _, y in pairs}, len(data.classes) or None)


def check_split_sizes(what: str, sizes: dict[str, int]) -> None:
    """Every split (train, val, test) keeps at least one example after holding out and subsetting."""
    for split, n in sizes.items():
        if n < 1:
            raise UserError(f"{what}: the {split} split is empty ({sizes}); the file needs more examples, "
                            f"or change data.validation / data.test_fraction / data.subset")


def _check_finite(what: str, name: str, array: np.ndarray) -> None:
    if not np.issubdtype(array.dtype, np.floating):
        return  # integer arrays (images, labels) cannot hold NaN or inf
    for start in range(0, len(array), ROWS_PER_CHECK):
        chunk = array[start:start + ROWS_PER_CHECK]
        if not np.isfinite(chunk).all():
            bad = start + int(np.argwhere(~np.isfinite(chunk).reshape(len(chunk), -1).all(axis=1))[0, 0])
            raise UserError(f"{what}: {name}: example {bad} holds NaN or inf; values must be finite")
