"""Small files in the official formats, written by the tests themselves (and a CIFAR archive builder).

    python tests/data/data_fakes.py cifar-archive /tmp/hl-data/cifar10.npz /tmp/hl-official

writes /tmp/hl-official/cifar-10-python.tar.gz in the official layout (data_batch_1..5, test_batch,
batches.meta; pickles of b"data" (N, 3072) uint8 channel-major rows and b"labels") from prepared
arrays: what docs/datasets.md times.
"""

from __future__ import annotations

import gzip
import io
import os
import pickle
import struct
import sys
import tarfile
from pathlib import Path

import numpy as np

from hyperlab.data import cache
from hyperlab.data.sources.cifar import CIFAR10_CLASSES, CIFAR100_CLASSES


def images(n: int, shape: tuple[int, ...], n_classes: int, seed: int = 0) -> dict[str, np.ndarray]:
    """Random uint8 images with balanced labels, in the Keras layout (n train, n // 2 test)."""
    rng = np.random.default_rng(seed)
    n_test = max(n // 2, n_classes)
    return {
        "x_train": rng.integers(0, 256, size=(n, *shape), dtype=np.uint8),
        "y_train": (np.arange(n) % n_classes).astype(np.uint8),
        "x_test": rng.integers(0, 256, size=(n_test, *shape), dtype=np.uint8),
        "y_test": (np.arange(n_test) % n_classes).astype(np.uint8),
    }


def publish(monkeypatch, name: str, arrays: dict[str, np.ndarray]) -> None:
    """Make `arrays` the published version of `name` for one test (the checks stay real)."""
    monkeypatch.setitem(cache.PUBLISHED_SHA256, name, cache.hash_arrays(arrays))


class _Py2StylePickler(pickle._Pickler):
    """Protocol 2 as Python 2 wrote the official batches: bytes are Python 2 `str` (BINSTRING), and
    numpy's reconstructor is named numpy.core.multiarray (numpy 2 calls it numpy._core)."""

    dispatch = dict(pickle._Pickler.dispatch)

    def _save_py2_str(self, obj: bytes) -> None:
        self.write(pickle.BINSTRING + struct.pack("<I", len(obj)) + obj)
        self.memoize(obj)

    dispatch[bytes] = _save_py2_str

    def save_global(self, obj, name=None) -> None:
        if getattr(obj, "__module__", None) == "numpy._core.multiarray":
            self.write(pickle.GLOBAL + b"numpy.core.multiarray\n" + obj.__name__.encode() + b"\n")
            self.memoize(obj)
            return
        super().save_global(obj, name)


def replace_npz(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Replace a file as editors and copy tools do: a new file renamed over the old one."""
    np.savez(path.with_name("replacement.npz"), **arrays)
    os.replace(path.with_name("replacement.npz"), path)


def _py2_style_pickle(obj: object) -> bytes:
    buffer = io.BytesIO()
    _Py2StylePickler(buffer, protocol=2).dump(obj)
    return buffer.getvalue()


def _batch(x: np.ndarray, y: np.ndarray, label_key: bytes) -> bytes:
    rows = x.transpose(0, 3, 1, 2).reshape(len(x), -1)  # N,H,W,C -> N, 3072 channel-major
    return _py2_style_pickle({b"batch_label": b"batch", label_key: [int(v) for v in y],
                              b"data": np.ascontiguousarray(rows), b"filenames": [b"x.png"] * len(x)})


def cifar_members(arrays: dict[str, np.ndarray], variant: str = "cifar10") -> dict[str, bytes]:
    """Official member name -> bytes (cifar10: 5 train batches; cifar100: one train file)."""
    if variant == "cifar10":
        chunks = np.array_split(np.arange(len(arrays["y_train"])), 5)
        members = {f"data_batch_{i + 1}": _batch(arrays["x_train"][c], arrays["y_train"][c], b"labels")
                   for i, c in enumerate(chunks)}
        members["test_batch"] = _batch(arrays["x_test"], arrays["y_test"], b"labels")
        members["batches.meta"] = _py2_style_pickle(
            {b"label_names": [n.encode() for n in CIFAR10_CLASSES], b"num_cases_per_batch": 10000})
        return {f"cifar-10-batches-py/{k}": v for k, v in members.items()}
    members = {
        "train": _batch(arrays["x_train"], arrays["y_train"], b"fine_labels"),
        "test": _batch(arrays["x_test"], arrays["y_test"], b"fine_labels"),
        "meta": _py2_style_pickle({b"fine_label_names": [n.encode() for n in CIFAR100_CLASSES],
                                   b"coarse_label_names": [b"c"] * 20}),
    }
    return {f"cifar-100-python/{k}": v for k, v in members.items()}


def write_tar(path: Path, members: dict[str, bytes], extra: list[tarfile.TarInfo] | None = None) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
        for info in extra or []:
            tar.addfile(info, io.BytesIO(b"x" * info.size) if info.isfile() else None)
    return path


def write_cifar_archive(root: Path, arrays: dict[str, np.ndarray], variant: str = "cifar10") -> Path:
    name = "cifar-10-python.tar.gz" if variant == "cifar10" else "cifar-100-python.tar.gz"
    return write_tar(root / name, cifar_members(arrays, variant))


def write_cifar_folder(root: Path, arrays: dict[str, np.ndarray], variant: str = "cifar10") -> Path:
    for name, data in cifar_members(arrays, variant).items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(data)
    return root / ("cifar-10-batches-py" if variant == "cifar10" else "cifar-100-python")


def idx_bytes(array: np.ndarray) -> bytes:
    header = struct.pack(">BBBB", 0, 0, 8, array.ndim) + struct.pack(f">{array.ndim}I", *array.shape)
    return header + np.ascontiguousarray(array, dtype=np.uint8).tobytes()


def write_idx_folder(folder: Path, arrays: dict[str, np.ndarray], compress: bool = True) -> Path:
    from hyperlab.data.sources.mnist import IDX_FILES

    folder.mkdir(parents=True, exist_ok=True)
    for key, stem in IDX_FILES.items():
        data = idx_bytes(arrays[key])
        if compress:
            (folder / f"{stem}.gz").write_bytes(gzip.compress(data))
        else:
            (folder / stem).write_bytes(data)
    return folder


def main(argv: list[str]) -> int:
    if len(argv) != 3 or argv[0] != "cifar-archive":
        print(__doc__)
        return 2
    with np.load(argv[1]) as prepared:
        arrays = {k: prepared[k] for k in prepared.files}
    print(write_cifar_archive(Path(argv[2]), arrays))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
