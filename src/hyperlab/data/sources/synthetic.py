"""2-D synthetic classification sets (data.n points, data.noise, data.seed), for decision boundaries.

`cubic` is notebook 002's set: x uniform in [-1, 1]^2, label x0^3 < x1. Noise is Gaussian,
added to the points after labelling (so it blurs the boundary, as in scikit-learn's make_moons).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from hyperlab.data.dataset import Dataset
from hyperlab.data.sources.base import LoadOptions, Source, fixed_location

Generator = Callable[[np.random.Generator, int], tuple[np.ndarray, np.ndarray]]  # (x (n, 2), y (n,))


def _balanced_labels(rng: np.random.Generator, n: int) -> np.ndarray:
    return rng.permutation(np.arange(n) % 2)


def cubic(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    return x, (x[:, 0] ** 3 < x[:, 1]).astype(np.int64)


def xor(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    x = rng.uniform(-1.0, 1.0, size=(n, 2))
    return x, ((x[:, 0] > 0) != (x[:, 1] > 0)).astype(np.int64)


def moons(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = _balanced_labels(rng, n)
    t = rng.uniform(0.0, np.pi, size=n)
    upper = np.column_stack([np.cos(t), np.sin(t)])
    lower = np.column_stack([1.0 - np.cos(t), 0.5 - np.sin(t)])
    return np.where(y[:, None] == 0, upper, lower), y


def circles(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = _balanced_labels(rng, n)
    t = rng.uniform(0.0, 2.0 * np.pi, size=n)
    radius = np.where(y == 0, 1.0, 0.5)  # class 0 outside, class 1 inside
    return radius[:, None] * np.column_stack([np.cos(t), np.sin(t)]), y


def spirals(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = _balanced_labels(rng, n)
    t = np.sqrt(rng.uniform(0.0, 1.0, size=n))  # sqrt: even density along the arms
    angle = 3.0 * np.pi * t + np.pi * y  # 1.5 turns; the second arm is the first rotated by pi
    return t[:, None] * np.column_stack([np.cos(angle), np.sin(angle)]), y


def gauss(rng: np.random.Generator, n: int) -> tuple[np.ndarray, np.ndarray]:
    y = _balanced_labels(rng, n)
    centers = np.where(y[:, None] == 0, -0.5, 0.5) * np.ones((1, 2))
    return centers + 0.3 * rng.standard_normal((n, 2)), y


GENERATORS: dict[str, tuple[Generator, tuple[str, str], str]] = {
    "cubic": (cubic, ("x1 <= x0^3", "x1 > x0^3"), "notebook 002: uniform in [-1, 1]^2, x0^3 < x1"),
    "moons": (moons, ("upper", "lower"), "two interleaved half circles"),
    "circles": (circles, ("outer", "inner"), "two concentric circles, radii 1 and 0.5"),
    "spirals": (spirals, ("arm 0", "arm 1"), "two interleaved spirals, 1.5 turns"),
    "xor": (xor, ("same sign", "opposite signs"), "uniform in [-1, 1]^2, label sign(x0) != sign(x1)"),
    "gauss": (gauss, ("a", "b"), "two Gaussian blobs at -(0.5, 0.5) and (0.5, 0.5), std 0.3"),
}


def _loader(name: str) -> Callable[[LoadOptions], Dataset]:
    generate, classes, _ = GENERATORS[name]

    def load(options: LoadOptions) -> Dataset:
        rng = np.random.default_rng(options.seed)
        x, y = generate(rng, options.n)
        if options.noise > 0:
            x = x + options.noise * rng.standard_normal(x.shape)
        return Dataset(
            name=name, task="classification", classes=list(classes),
            x_train=x.astype(np.float32), y_train=y.astype(np.int64),
            source=f"generated (n={options.n}, noise={options.noise}, seed={options.seed})",
            verified="generated", feature_names=["x0", "x1"],
        )

    return load


SOURCES = [
    Source(name=name, task="classification", input_shape=(2,), classes=classes, n_train=None, n_test=None,
           load=_loader(name), locate=fixed_location("generated", "-"), summary=summary)
    for name, (_, classes, summary) in GENERATORS.items()
]
