"""What a dataset contains, as one hash: part of every trial's identity (hyperlab.engine.identity).

A trial key built from the config alone would reuse results after the data changed under the same
name (labels flipped in an npz, a class folder added). The fingerprint closes that gap:

- registered datasets: the array hashes already known for them (published SHA-256, or the
  official archives' MD5s; the loaders verify the files against them), or, for sets bundled with
  scikit-learn, their name: their contents come with the installed package;
- generated 2-D sets: their parameters (name, n, noise, seed);
- `npz:PATH`: the SHA-256 of each array (dtype, shape and bytes);
- `folder:PATH`: the sorted list of image files with their sizes and content hashes.

File hashes are cached by (size, mtime) in `<cache>/datasets/fingerprints.json`, so planning a
study whose files did not change reads no image and no array.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import threading
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np

from hyperlab.data import cache
from hyperlab.data.config import DataConfig
from hyperlab.errors import UserError

CACHE_FILE = "fingerprints.json"
_lock = threading.Lock()


def data_fingerprint(cfg: DataConfig) -> str:
    """Hex SHA-256 of what `cfg.dataset` contains (see the module docstring). UserError when a user
    file is missing or unreadable."""
    return _digest(describe_contents(cfg))


def describe_contents(cfg: DataConfig) -> dict:
    """The data the fingerprint hashes, as JSON data (for messages and tests)."""
    name = cfg.dataset
    if name.startswith(("npz:", "folder:")):
        with _lock:
            hashes = _FileHashes()
            try:
                if name.startswith("npz:"):
                    return {"npz": _npz_arrays(Path(name[4:]).expanduser(), hashes)}
                return {"folder": _folder_files(Path(name[7:]).expanduser(), hashes)}
            finally:
                hashes.save()
    from hyperlab.data.registry import OFFICIAL, SOURCES
    from hyperlab.data.sources import synthetic

    if name in {s.name for s in synthetic.SOURCES}:
        return {"generated": name, "n": cfg.n, "noise": cfg.noise, "seed": cfg.seed}
    if name in cache.PUBLISHED_SHA256:
        return {"registered": name, "sha256": cache.PUBLISHED_SHA256[name]}
    if name in OFFICIAL:
        return {"registered": name, "md5": {f.name: f.md5 for f in OFFICIAL[name].files}}
    if name in SOURCES:
        return {"registered": name}
    raise UserError(f"data.dataset: unknown dataset {name!r}")


def _digest(data: object) -> str:
    return hashlib.sha256(json.dumps(data, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


class _FileHashes:
    """File hashes remembered by (size, mtime_ns): read once, written once if anything changed."""

    def __init__(self) -> None:
        self.path = cache.datasets_dir() / CACHE_FILE
        try:
            self.entries: dict = json.loads(self.path.read_text())
        except (OSError, ValueError):
            self.entries = {}
        self.changed = False

    def get(self, path: Path, compute: Callable[[Path], object]) -> object:
        stat = path.stat()
        stamp = [stat.st_size, stat.st_mtime_ns]
        key = str(path.resolve())
        entry = self.entries.get(key)
        if entry is not None and entry.get("stamp") == stamp:
            return entry["value"]
        value = compute(path)
        self.entries[key] = {"stamp": stamp, "value": value}
        self.changed = True
        return value

    def save(self) -> None:
        if not self.changed:
            return
        text = json.dumps(self.entries).encode()
        with contextlib.suppress(OSError):  # a read-only cache only costs the speed-up
            cache.write_atomic(self.path, lambda f: f.write(text))


# --- npz: the arrays ------------------------------------------------------------------------------


def _npz_arrays(path: Path, hashes: _FileHashes) -> object:
    if not path.is_file():
        raise UserError(f"data.dataset: npz:{path}: no such file")
    return hashes.get(path, _hash_npz)


def _hash_npz(path: Path) -> dict:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: [str(archive[key].dtype), list(archive[key].shape), cache.array_sha256(archive[key])]
                    for key in sorted(archive.files)}
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise UserError(f"{path}: not a readable .npz file ({exc})") from exc


# --- folder: the files ----------------------------------------------------------------------------


def _folder_files(folder: Path, hashes: _FileHashes) -> list:
    if not folder.is_dir():
        raise UserError(f"data.dataset: folder:{folder}: no such folder")
    files = sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))
    return [[p.relative_to(folder).as_posix(), p.stat().st_size, hashes.get(p, _hash_file)] for p in files]


def _hash_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()
