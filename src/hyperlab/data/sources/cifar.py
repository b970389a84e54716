"""CIFAR-10 and CIFAR-100 from the official python archives (or their extracted folders)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from hyperlab.data.formats import cifar_arrays, label_names, read_members, unpickle_numpy
from hyperlab.data.sources.official import Official, RemoteFile
from hyperlab.errors import UserError

BASES = ("https://www.cs.toronto.edu/~kriz/",)

CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck")

CIFAR100_CLASSES = (
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup",
    "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house",
    "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
    "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid",
    "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy", "porcupine",
    "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal", "shark", "shrew",
    "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar", "sunflower",
    "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor", "train", "trout",
    "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
)  # the fine labels, in label order (meta["fine_label_names"])


def _finder(archive: str, folder: str) -> Callable[[Path], Path | None]:
    """Finds the extracted folder (preferred: no gunzip) or the archive under a data root."""

    def find(root: Path) -> Path | None:
        for candidate in (root / folder, root if root.name == folder else None):
            if candidate is not None and candidate.is_dir():
                return candidate
        return root / archive if (root / archive).is_file() else None

    return find


def _decoder(folder: str, train: list[str], test: str, meta: str, label_key: str, names_key: str,
             classes: tuple[str, ...]) -> Callable[[Path], dict[str, np.ndarray]]:
    def decode(source: Path) -> dict[str, np.ndarray]:
        raw = read_members(source, folder, [*train, test, meta])
        names = label_names(unpickle_numpy(raw[meta], f"{source}: {meta}"), names_key)
        if names and tuple(names) != classes:
            raise UserError(f"{source}: {meta}: label names {names[:3]}... are not {classes[:3]}...")
        parts = [cifar_arrays(unpickle_numpy(raw[n], f"{source}: {n}"), label_key, f"{source}: {n}")
                 for n in train]
        x_test, y_test = cifar_arrays(unpickle_numpy(raw[test], f"{source}: {test}"), label_key,
                                      f"{source}: {test}")
        return {
            "x_train": np.concatenate([x for x, _ in parts]),  # a fresh C-ordered NHWC array
            "y_train": np.concatenate([y for _, y in parts]),
            "x_test": np.ascontiguousarray(x_test),
            "y_test": y_test,
        }

    return decode


_PREPARE = "hyperlab datasets import cifar10 FILE.npz (a Keras-layout npz: x_train, y_train, x_test, y_test)"

CIFAR10 = Official(
    name="cifar10",
    classes=CIFAR10_CLASSES,
    files=(RemoteFile("cifar-10-python.tar.gz", "c58f30108f718f92721af3b95e74349a"),),
    bases=BASES,
    find=_finder("cifar-10-python.tar.gz", "cifar-10-batches-py"),
    decode=_decoder("cifar-10-batches-py", [f"data_batch_{i}" for i in range(1, 6)], "test_batch",
                    "batches.meta", "labels", "label_names", CIFAR10_CLASSES),
    expects="cifar-10-python.tar.gz nor cifar-10-batches-py/",
    fix=(f"run `{_PREPARE}`, or put cifar-10-python.tar.gz "
         "(https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz) in a folder and set HYPERLAB_DATA to it"),
)

CIFAR100 = Official(
    name="cifar100",
    classes=CIFAR100_CLASSES,
    files=(RemoteFile("cifar-100-python.tar.gz", "eb9058c3a382ffc7106e4002c42a8d85"),),
    bases=BASES,
    find=_finder("cifar-100-python.tar.gz", "cifar-100-python"),
    decode=_decoder("cifar-100-python", ["train"], "test", "meta", "fine_labels", "fine_label_names",
                    CIFAR100_CLASSES),
    expects="cifar-100-python.tar.gz nor cifar-100-python/",
    fix=("put cifar-100-python.tar.gz (https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz) "
         "in a folder and set HYPERLAB_DATA to it"),
)
