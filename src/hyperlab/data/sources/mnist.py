"""MNIST and Fashion-MNIST from the official IDX files (gzip-compressed or not)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hyperlab.data.formats import read_idx
from hyperlab.data.sources.official import Official, RemoteFile
from hyperlab.errors import UserError

IDX_FILES = {  # Keras key -> official file name
    "x_train": "train-images-idx3-ubyte",
    "y_train": "train-labels-idx1-ubyte",
    "x_test": "t10k-images-idx3-ubyte",
    "y_test": "t10k-labels-idx1-ubyte",
}


def _idx_file(folder: Path, stem: str) -> Path | None:
    for name in (f"{stem}.gz", stem):  # torchvision keeps both; the .gz is the published file
        if (folder / name).is_file():
            return folder / name
    return None


def _finder(*subfolders: str) -> Callable[[Path], Path | None]:
    """The first of root/<subfolder>..., root itself, holding all four IDX files."""

    def find(root: Path) -> Path | None:
        for folder in (*(root / s for s in subfolders), root):
            if all(_idx_file(folder, stem) for stem in IDX_FILES.values()):
                return folder
        return None

    return find


def decode_idx_folder(folder: Path) -> dict[str, np.ndarray]:
    arrays = {key: read_idx(_idx_file(folder, stem) or folder / stem) for key, stem in IDX_FILES.items()}
    for split in ("train", "test"):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.ndim != 3 or y.ndim != 1 or len(x) != len(y):
            raise UserError(f"{folder}: {split} images {x.shape} and labels {y.shape} do not match")
    return arrays


def _fix(name: str) -> str:
    return (f"set HYPERLAB_DATA to a folder holding {name}/ with the four IDX .gz files "
            f"(fetched from the dataset's official site), or run `hyperlab datasets import {name} "
            f"FILE.npz` with a Keras-layout npz (x_train, y_train, x_test, y_test)")


_EXPECTS = "folder with the four IDX files (train-images-idx3-ubyte.gz, ...)"

MNIST = Official(
    name="mnist",
    classes=tuple(str(d) for d in range(10)),
    files=(
        RemoteFile("train-images-idx3-ubyte.gz", "f68b3c2dcbeaaa9fbdd348bbdeb94873"),
        RemoteFile("train-labels-idx1-ubyte.gz", "d53e105ee54ea40749a09fcbcd1e9432"),
        RemoteFile("t10k-images-idx3-ubyte.gz", "9fb629c4189551a2d022fa330f9573f3"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", "ec29112dd5afa0611ce80d1b7f02629c"),
    ),
    bases=("https://ossci-datasets.s3.amazonaws.com/mnist/", "http://yann.lecun.com/exdb/mnist/"),
    find=_finder("mnist", "MNIST/raw"),
    decode=decode_idx_folder,
    expects=f"mnist/ {_EXPECTS}",
    fix=_fix("mnist"),
)

FASHION_MNIST = Official(
    name="fashion-mnist",
    classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
             "Ankle boot"),
    files=(
        RemoteFile("train-images-idx3-ubyte.gz", "8d4fb7e6c68d591d4c3dfef9ec88bf0d"),
        RemoteFile("train-labels-idx1-ubyte.gz", "25c81989df183df01b3e8a0aad5dffbe"),
        RemoteFile("t10k-images-idx3-ubyte.gz", "bef4ecab320f06d8554ea6380940ec79"),
        RemoteFile("t10k-labels-idx1-ubyte.gz", "bb300cfdad3c16e7a12a480ee83cd310"),
    ),
    bases=("http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",),
    find=_finder("fashion-mnist", "FashionMNIST/raw"),
    decode=decode_idx_folder,
    expects=f"fashion-mnist/ {_EXPECTS}",
    fix=_fix("fashion-mnist"),
)
