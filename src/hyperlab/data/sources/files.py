"""User files: `npz:PATH` (arrays in the Keras layout) and `folder:PATH` (image folders).

An image folder is `PATH/train/<class>/*.png|jpg` (and optionally `PATH/test/<class>/...`); it is
decoded once into the cache and re-decoded only when a file in it changes (size or mtime).
"""

from __future__ import annotations

import hashlib
import re
import zipfile
from pathlib import Path

import numpy as np

from hyperlab.data import cache
from hyperlab.data.dataset import ARRAY_KEYS, Dataset, input_shape_of
from hyperlab.data.sources.base import Source, fixed_location
from hyperlab.data.validate import label_range
from hyperlab.errors import UserError

IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg"}
GREY_MODES = {"1", "L", "I", "I;16", "F"}  # single-channel PIL modes

# --- npz:PATH -----------------------------------------------------------------------------------


def _npz_header(path: Path, key: str) -> tuple[tuple[int, ...], np.dtype]:
    """Shape and dtype of one array of an npz, reading only its header."""
    with zipfile.ZipFile(path) as archive, archive.open(f"{key}.npy") as f:
        version = np.lib.format.read_magic(f)
        if version == (1, 0):
            shape, _fortran, dtype = np.lib.format.read_array_header_1_0(f)
        else:
            shape, _fortran, dtype = np.lib.format.read_array_header_2_0(f)
    return shape, dtype


def _check_npz_keys(path: Path, keys: set[str]) -> None:
    allowed = {*ARRAY_KEYS, "classes"}
    if unknown := sorted(keys - allowed):
        raise UserError(f"{path}: unexpected arrays {unknown}; allowed: {sorted(allowed)}")
    if {"x_train", "y_train"} - keys:
        raise UserError(f"{path}: needs x_train and y_train (and optionally x_test, y_test, classes)")
    if ("x_test" in keys) != ("y_test" in keys):
        raise UserError(f"{path}: x_test and y_test go together")


def npz_source(path: Path) -> Source:
    """A Source whose metadata come from the npz headers and labels (the images are not read)."""
    if not path.is_file():
        raise UserError(f"data.dataset: npz:{path}: no such file")
    try:
        with zipfile.ZipFile(path) as archive:
            keys = {n.removesuffix(".npy") for n in archive.namelist()}
        _check_npz_keys(path, keys)
        x_shape, x_dtype = _npz_header(path, "x_train")
        y_shape, y_dtype = _npz_header(path, "y_train")
        test_shape = _npz_header(path, "x_test")[0] if "x_test" in keys else None
        n_test = test_shape[0] if test_shape is not None else None
        y_test_dtype = _npz_header(path, "y_test")[1] if "y_test" in keys else None
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable .npz file ({exc})") from exc
    _check_targets(path, "y_train", y_dtype)
    if y_test_dtype is not None:
        _check_targets(path, "y_test", y_test_dtype)
    if test_shape is not None and tuple(test_shape[1:]) != tuple(x_shape[1:]):
        raise UserError(f"{path}: x_test: examples of shape {tuple(test_shape[1:])}, but x_train's are "
                        f"{tuple(x_shape[1:])}")
    task = "classification" if np.issubdtype(y_dtype, np.integer) else "regression"
    classes: tuple[str, ...] = ()
    if task == "classification":
        classes = tuple(_npz_classes(path, cache.read_npz_keys(path, ["y_train", "y_test", "classes"])))
    return Source(
        name=f"npz:{path}", task=task, input_shape=input_shape_of(x_shape), classes=classes,
        n_train=x_shape[0], n_test=n_test, load=lambda _options: load_npz(path),
        locate=fixed_location(str(path)), summary=f"x {x_shape} {x_dtype}, y {y_shape} {y_dtype}",
    )


def _check_targets(path: Path, key: str, dtype: np.dtype) -> None:
    """Labels are integers, regression targets real numbers: nothing else (objects, strings, complex)."""
    if not (np.issubdtype(dtype, np.integer) or np.issubdtype(dtype, np.floating)):
        raise UserError(f"{path}: {key}: must be 1-D integer labels (or float regression targets), "
                        f"got dtype {dtype}")


def _npz_classes(path: Path, arrays: dict[str, np.ndarray]) -> list[str]:
    declared = [str(c) for c in arrays["classes"]] if "classes" in arrays else None
    # Checked before anything is sized by it: one stray label of 10**9 must not allocate 10**9 names.
    count = label_range(str(path), {k: arrays.get(k) for k in ("y_train", "y_test")},
                        None if declared is None else len(declared))
    return declared if declared is not None else [str(i) for i in range(count)]


def _flat_labels(y: np.ndarray | None) -> np.ndarray | None:
    """Keras stores CIFAR labels as (N, 1); one target per example is (N,) here."""
    return y.reshape(-1) if y is not None and y.ndim == 2 and y.shape[1] == 1 else y


def load_npz(path: Path) -> Dataset:
    arrays = cache.read_npz(path)
    _check_npz_keys(path, set(arrays))
    x = arrays["x_train"]
    if x.ndim in (3, 4) and x.dtype != np.uint8:
        raise UserError(f"{path}: x_train {x.shape} {x.dtype}: images must be uint8 (N, H, W[, C])")
    if x.ndim not in (2, 3, 4) or not np.issubdtype(x.dtype, np.number):
        raise UserError(f"{path}: x_train {x.shape} {x.dtype}: expected uint8 images or a numeric (N, F)")
    for split in ("train", "test"):
        if f"x_{split}" in arrays and len(arrays[f"x_{split}"]) != len(arrays[f"y_{split}"]):
            raise UserError(f"{path}: x_{split} and y_{split} have different lengths")
    y = arrays["y_train"]
    task = "classification" if np.issubdtype(y.dtype, np.integer) else "regression"
    return Dataset(
        name=f"npz:{path}", task=task,
        classes=_npz_classes(path, arrays) if task == "classification" else [],
        x_train=x, y_train=_flat_labels(y),
        x_test=arrays.get("x_test"), y_test=_flat_labels(arrays.get("y_test")),
        value_range=(0.0, 255.0) if x.dtype == np.uint8 and x.ndim in (3, 4) else None,
        source=str(path), verified="not checked (user file)",
    )


# --- folder:PATH --------------------------------------------------------------------------------


def _image_files(folder: Path) -> dict[str, dict[str, list[Path]]]:
    """split -> class -> sorted image files."""
    splits = {}
    for split in ("train", "test"):
        if (folder / split).is_dir():
            splits[split] = {
                d.name: sorted(p for p in d.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES and p.is_file())
                for d in sorted((folder / split).iterdir()) if d.is_dir()
            }
    if not splits.get("train") or not any(splits["train"].values()):
        raise UserError(f"data.dataset: folder:{folder}: expected images in {folder}/train/<class>/*.png|jpg")
    if unknown := sorted(set(splits.get("test", {})) - set(splits["train"])):
        raise UserError(f"{folder}/test: classes {unknown} are not in {folder}/train")
    return splits


def _fingerprint(files: dict[str, dict[str, list[Path]]], folder: Path) -> str:
    lines = []
    for classes in files.values():
        for paths in classes.values():
            for p in paths:
                st = p.stat()
                lines.append(f"{p.relative_to(folder)}\t{st.st_size}\t{st.st_mtime_ns}")
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()


def folder_cache_path(folder: Path) -> Path:
    resolved = folder.resolve()
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", resolved.name) or "root"
    digest = hashlib.sha256(str(resolved).encode()).hexdigest()[:10]  # two folders named alike differ
    return cache.datasets_dir() / f"folder-{slug}-{digest}.npz"


def _decode_images(paths: list[Path], grey: bool) -> np.ndarray:
    from PIL import Image  # imported here: only image folders need it

    arrays, first = [], None
    for p in paths:  # decoding is per image by nature; it happens once, then the cache serves
        try:
            with Image.open(p) as im:
                a = np.asarray(im.convert("L" if grey else "RGB"))
        except OSError as exc:
            raise UserError(f"{p}: not a readable image ({exc})") from exc
        if first is None:
            first = (p, a.shape)
        elif a.shape != first[1]:
            raise UserError(f"{p}: size {a.shape[:2]} differs from {first[0]} {first[1][:2]}; "
                            "all images must have one size")
        arrays.append(a)
    return np.stack(arrays).astype(np.uint8)


def _all_grey(paths: list[Path]) -> bool:
    from PIL import Image

    for p in paths:
        with Image.open(p) as im:  # open reads only the header
            if im.mode not in GREY_MODES:
                return False
    return True


def _folder_cache(folder: Path) -> tuple[Path, dict, dict[str, np.ndarray] | None]:
    """(cache file, its sidecar, the arrays if they were just decoded): decodes only on change."""
    if not folder.is_dir():
        raise UserError(f"data.dataset: folder:{folder}: no such folder")
    files = _image_files(folder)
    path = folder_cache_path(folder)
    fingerprint = _fingerprint(files, folder)
    meta = cache.remembered(path)
    if meta is not None and meta.get("fingerprint") == fingerprint:
        return path, meta, None
    classes = list(files["train"])
    grey = _all_grey([p for split in files.values() for paths in split.values() for p in paths])
    arrays = {}
    for split, by_class in files.items():
        arrays[f"x_{split}"] = _decode_images([p for c in classes for p in by_class.get(c, [])], grey)
        arrays[f"y_{split}"] = np.repeat(np.arange(len(classes), dtype=np.int64),
                                         [len(by_class.get(c, [])) for c in classes])
    path, meta = cache.store(path.stem, arrays, fingerprint=fingerprint, classes=classes,
                             source=str(folder.resolve()), verified="sha256 recorded")
    return path, meta, arrays


def load_folder(folder: Path) -> Dataset:
    path, meta, arrays = _folder_cache(folder)
    arrays = arrays if arrays is not None else cache.read_npz(path)
    return Dataset(
        name=f"folder:{folder}", task="classification", classes=list(meta["classes"]),
        x_train=arrays["x_train"], y_train=arrays["y_train"],
        x_test=arrays.get("x_test"), y_test=arrays.get("y_test"), value_range=(0.0, 255.0),
        source=f"{folder} (decoded into {path})", verified=meta.get("verified", ""),
        sha256=dict(meta.get("sha256", {})),
    )


def folder_source(folder: Path) -> Source:
    """Metadata of an image folder, from the sidecar of its cache (decoding the folder if needed)."""
    path, meta, _ = _folder_cache(folder)
    shapes = meta["shapes"]
    return Source(
        name=f"folder:{folder}", task="classification", input_shape=input_shape_of(tuple(shapes["x_train"])),
        classes=tuple(meta["classes"]), n_train=shapes["x_train"][0],
        n_test=shapes["x_test"][0] if "x_test" in shapes else None,
        load=lambda _options: load_folder(folder), locate=fixed_location(str(path), meta.get("verified", "")),
        summary=f"image folder {folder}",
    )
