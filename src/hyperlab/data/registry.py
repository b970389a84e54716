"""The registered datasets: one line per source. `npz:PATH` and `folder:PATH` are resolved on demand."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hyperlab.data import cache
from hyperlab.data.dataset import Dataset
from hyperlab.data.sources import california, cifar, digits, files, mnist, official, synthetic
from hyperlab.data.sources.base import LoadOptions, Source
from hyperlab.errors import UserError


def _official(spec: official.Official, input_shape: tuple[int, ...], n_train: int, n_test: int,
              summary: str) -> Source:
    return Source(
        name=spec.name, task="classification", input_shape=input_shape, classes=spec.classes,
        n_train=n_train, n_test=n_test, load=lambda options: official.resolve(spec, options.root),
        locate=lambda options: official.locate(spec, options.root), summary=summary,
    )


SOURCES: dict[str, Source] = {source.name: source for source in [
    digits.SOURCE,
    _official(cifar.CIFAR10, (3, 32, 32), 50_000, 10_000, "CIFAR-10, 32x32 RGB, 10 classes"),
    _official(cifar.CIFAR100, (3, 32, 32), 50_000, 10_000, "CIFAR-100, 32x32 RGB, 100 fine classes"),
    _official(mnist.MNIST, (1, 28, 28), 60_000, 10_000, "MNIST handwritten digits, 28x28 grey"),
    _official(mnist.FASHION_MNIST, (1, 28, 28), 60_000, 10_000, "Fashion-MNIST, 28x28 grey"),
    california.SOURCE,
    *synthetic.SOURCES,
]}

OFFICIAL: dict[str, official.Official] = {  # the datasets `hyperlab datasets import` accepts
    spec.name: spec for spec in (cifar.CIFAR10, cifar.CIFAR100, mnist.MNIST, mnist.FASHION_MNIST)
}
OFFICIAL_SHAPES = {"cifar10": ((50_000, 32, 32, 3), (10_000, 32, 32, 3)),
                   "cifar100": ((50_000, 32, 32, 3), (10_000, 32, 32, 3)),
                   "mnist": ((60_000, 28, 28), (10_000, 28, 28)),
                   "fashion-mnist": ((60_000, 28, 28), (10_000, 28, 28))}


def get_source(dataset: str) -> Source:
    """The Source of a dataset name, `npz:PATH` or `folder:PATH`; UserError naming the choices."""
    if dataset.startswith("npz:"):
        return files.npz_source(Path(dataset[4:]).expanduser())
    if dataset.startswith("folder:"):
        return files.folder_source(Path(dataset[7:]).expanduser())
    try:
        return SOURCES[dataset]
    except KeyError:
        raise UserError(f"data.dataset: unknown dataset {dataset!r}; choose one of "
                        f"{', '.join(SOURCES)}, npz:PATH, folder:PATH") from None


def is_known(dataset: str) -> bool:
    return dataset in SOURCES or dataset.startswith(("npz:", "folder:"))


def load_dataset(name: str, root: str | Path | None = None, *, n: int = 200, noise: float = 0.0,
                 seed: int = 0) -> Dataset:
    """The raw arrays of a dataset. `root` defaults to $HYPERLAB_DATA; n/noise/seed: synthetic sets."""
    options = LoadOptions(root=cache.data_root(root), n=n, noise=noise, seed=seed)
    return get_source(name).load(options)


@dataclass(frozen=True)
class DatasetStatus:
    """One row of `hyperlab datasets list`."""

    name: str
    task: str
    input_shape: tuple[int, ...]
    n_train: int | None
    n_test: int | None
    where: str
    verified: str
    summary: str


def list_datasets(root: str | Path | None = None) -> list[DatasetStatus]:
    """Every registered dataset with where it is and how it is verified (nothing is hashed)."""
    options = LoadOptions(root=cache.data_root(root))
    rows = []
    for source in SOURCES.values():
        where, verified = source.locate(options)
        rows.append(DatasetStatus(source.name, source.task, source.input_shape, source.n_train,
                                  source.n_test, where, verified, source.summary))
    return rows

