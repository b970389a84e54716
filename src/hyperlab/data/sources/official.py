"""Datasets published as official files (CIFAR, MNIST): cache -> data root -> download.

Whatever is found in a data root or downloaded is decoded once, checked against the published
array hashes, and installed into the cache; every later load is a read of the cached npz.
"""

from __future__ import annotations

import os
import shutil
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperlab.data import cache, download
from hyperlab.data.dataset import Dataset
from hyperlab.errors import DataNotFoundError, UserError


@dataclass(frozen=True)
class RemoteFile:
    name: str
    md5: str  # as published by the dataset's authors (torchvision uses the same)


@dataclass(frozen=True)
class Official:
    """How to find, fetch and decode one dataset's official files."""

    name: str
    classes: tuple[str, ...]
    files: tuple[RemoteFile, ...]  # what a download fetches
    bases: tuple[str, ...]  # official URL prefixes, tried in order
    find: Callable[[Path], Path | None]  # the official files under a data root, if there
    decode: Callable[[Path], dict[str, np.ndarray]]  # that path -> uint8 arrays in the Keras layout
    expects: str  # what a data root must hold, for messages
    fix: str  # what a user runs or puts where when nothing is found


def resolve(spec: Official, root: Path | None) -> Dataset:
    """The dataset from the cache, else converted from the data root, else downloaded."""
    path = cache.cache_path(spec.name)
    hit = cache.load_verified(spec.name)
    if hit is not None:
        return _dataset(spec, hit[0], hit[1], str(path))
    if root is not None and (found := spec.find(root)) is not None:
        return _convert(spec, found)
    where_root = f"{root} has no {spec.expects}" if root else "no data root set (data.root / $HYPERLAB_DATA)"
    if download.offline():
        reason = f"${download.OFFLINE_ENV} is set"
    else:
        try:
            folder = _download(spec)
        except download.Unreachable as exc:
            reason = f"download failed: {exc}"
        else:
            try:
                return _convert(spec, spec.find(folder) or folder)
            finally:
                shutil.rmtree(folder, ignore_errors=True)
    raise DataNotFoundError(f"{spec.name}: not in the cache ({path}); {where_root}; {reason}. "
                            f"Fix: {spec.fix}")


def locate(spec: Official, root: Path | None) -> tuple[str, str]:
    """(where the dataset is, how it is verified) for `hyperlab datasets list`, without hashing."""
    path = cache.cache_path(spec.name)
    if path.is_file():
        meta = cache.remembered(path)
        return str(path), (meta or {}).get("verified", "not verified yet (verified on first load)")
    if root is not None and (found := spec.find(root)) is not None:
        return str(found), "checked when converted on first load"
    return "missing (downloaded on first load)" if not download.offline() else "missing", "-"


def _dataset(spec: Official, arrays: dict[str, np.ndarray], meta: dict, source: str) -> Dataset:
    return Dataset(
        name=spec.name, task="classification", classes=list(spec.classes),
        x_train=arrays["x_train"], y_train=arrays["y_train"],
        x_test=arrays["x_test"], y_test=arrays["y_test"],
        value_range=(0.0, 255.0), source=source, verified=meta.get("verified", ""),
        sha256=dict(meta.get("sha256", {})),
    )


def _convert(spec: Official, found: Path) -> Dataset:
    """Decode official files, check them against the published hashes, install into the cache."""
    print(f"hyperlab: converting {found} into the cache (once)", file=sys.stderr)
    arrays = {k: np.ascontiguousarray(v) for k, v in spec.decode(found).items()}
    n_classes = len(spec.classes)
    for key in ("y_train", "y_test"):
        if arrays[key].size and int(arrays[key].max()) >= n_classes:
            raise UserError(f"{found}: {key} has label {int(arrays[key].max())}; "
                            f"{spec.name} has {n_classes} classes")
    hashes = cache.hash_arrays(arrays)
    bad = cache.published_mismatches(spec.name, hashes)
    if bad:
        raise UserError(f"{found}: {bad[0]}: not the published {spec.name} (damaged or other files)")
    verified = cache.verification_label(spec.name)
    path, meta = cache.store(spec.name, arrays, hashes, verified=verified, source=str(found))
    return _dataset(spec, arrays, meta, str(path))


def _download(spec: Official) -> Path:
    """Fetch every official file into a scratch folder of the cache; the caller removes it."""
    folder = cache.cache_root() / "downloads" / f"{spec.name}-{os.getpid()}"  # one per process
    try:
        for remote in spec.files:
            reasons = []
            for url in download.urls_for(spec.name, remote.name, spec.bases):
                try:
                    download.fetch(url, folder / remote.name, md5=remote.md5)
                    break
                except download.Unreachable as exc:
                    reasons.append(str(exc))
            else:
                raise download.Unreachable("; ".join(reasons))
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder
