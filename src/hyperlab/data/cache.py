"""The dataset cache: `$HYPERLAB_CACHE/datasets/<name>.npz`, verified once and remembered.

Each cached archive is an uncompressed npz in the Keras layout (np.load of it is a plain read) with a
sidecar `<name>.json` recording the file's size and mtime and the SHA-256 of every array. A later
load whose file still has that size and mtime trusts the recorded hashes instead of re-hashing
180 MB; `hyperlab datasets verify` re-hashes on demand.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path

import numpy as np

from hyperlab.data.dataset import ARRAY_KEYS
from hyperlab.errors import UserError

CACHE_ENV = "HYPERLAB_CACHE"  # default ~/.cache/hyperlab
DATA_ENV = "HYPERLAB_DATA"  # folder with official dataset files

# SHA-256 of each array's raw bytes (C order; images NHWC or NHW, labels 1-D; all uint8), as
# computed from lossless copies of the official releases. CIFAR-100 has no published array hashes:
# its archive MD5 is checked on download and the hashes computed at conversion are recorded.
PUBLISHED_SHA256: dict[str, dict[str, str]] = {
    "cifar10": {
        "x_train": "47af8b02cfcfb6cdf3dbbd1969ad7f1b70f4413f6f80f437b020ee4e5bc8304a",
        "y_train": "2b7cd2f24487317614016b72ffd53071c3062f592f0eb300c18a770d41ae1253",
        "x_test": "f9b1e2130bab680db56eb06d886f7f1ad0f1183907ceff4659d1735c890f5b04",
        "y_test": "cec8a24a1e92aa2ecaa0bbd3dbfa86bf6cd8759fbd209a832824c8cf0afca9d5",
    },
    "mnist": {
        "x_train": "741c988805d008ac6e4c904b69001ba184c24b2c540a4ef403f4c71b676cf757",
        "y_train": "1feba77c54802fa5339a11837ea4b2866434b83314ec45192930f1df69120c13",
        "x_test": "6d87418db22cc8025d05968bec9bd5c3932904b23485740db143a061a2c9d161",
        "y_test": "ddeff807876a9661a1110d45c266c86239a3a1b7d37da0c3716a7a683c852ff5",
    },
    "fashion-mnist": {
        "x_train": "2e487a6c89124f78f2d7521542223cafe96f7123c3ca13d447772ac6ecbb3012",
        "y_train": "657fbd221bfc9f4198cc14b5619cc33ec57c58dd0e47af4d99d6650759e869a7",
        "x_test": "c867c93ff95360594e8ec3287995350b824dd110b11595c0e13d5423f621867a",
        "y_test": "3d0e6c6ea990b53b6f8f500a41cac93881d981b315f84578b7d915342ade01e9",
    },
}


def cache_root() -> Path:
    return Path(os.environ.get(CACHE_ENV) or "~/.cache/hyperlab").expanduser()


def datasets_dir() -> Path:
    return cache_root() / "datasets"


def cache_path(name: str) -> Path:
    return datasets_dir() / f"{name}.npz"


def data_root(root: str | os.PathLike | None = None) -> Path | None:
    """The folder searched for official files: `root` if given, else $HYPERLAB_DATA, else none."""
    chosen = root if root not in (None, "") else os.environ.get(DATA_ENV)
    return Path(chosen).expanduser() if chosen else None


def array_sha256(array: np.ndarray) -> str:
    """SHA-256 of an array's raw bytes in C order (the published convention)."""
    return hashlib.sha256(memoryview(np.ascontiguousarray(array)).cast("B")).hexdigest()


def hash_arrays(arrays: dict[str, np.ndarray]) -> dict[str, str]:
    return {key: array_sha256(arrays[key]) for key in sorted(arrays)}


def published_mismatches(name: str, hashes: dict[str, str]) -> list[str]:
    """`key: sha256 got is not the published want` for each array that differs ([] if none/unknown)."""
    want = PUBLISHED_SHA256.get(name, {})
    return [
        f"{key}: sha256 {hashes.get(key, 'missing')[:16]}... is not the published {digest[:16]}..."
        for key, digest in want.items()
        if hashes.get(key) != digest
    ]


def hash_problems(name: str, hashes: dict[str, str], previous: dict) -> list[str]:
    """What is wrong with these hashes: against the published ones if any, else against those the
    sidecar `previous` recorded when the file was made ([] when all agree or nothing is known)."""
    if name in PUBLISHED_SHA256:
        return published_mismatches(name, hashes)
    old = previous.get("sha256") or {}
    changed = [k for k in hashes if old and old.get(k) != hashes[k]]
    return [f"{', '.join(changed)} changed since recorded"] if changed else []


def verification_label(name: str) -> str:
    return "sha256 = published" if name in PUBLISHED_SHA256 else "sha256 recorded (none published)"


def sidecar_path(npz: Path) -> Path:
    return npz.with_suffix(".json")


def write_atomic(path: Path, write) -> None:
    """Call write(file) on a temp file beside `path`, then rename it over `path` (never half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            write(f)
        os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()


def read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in archive.files}
    except Exception as exc:  # BadZipFile, truncated data, pickled objects: a file for the user to fix
        raise UserError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from exc


def read_npz_keys(path: Path, keys: list[str]) -> dict[str, np.ndarray]:
    """Only the listed arrays that exist in the npz (the others are never read)."""
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {key: archive[key] for key in keys if key in archive.files}
    except Exception as exc:
        raise UserError(f"{path}: not a readable .npz file ({type(exc).__name__}: {exc})") from exc


def remembered(npz: Path) -> dict | None:
    """The sidecar of `npz` if it still describes the file (same size and mtime), else None."""
    try:
        meta = json.loads(sidecar_path(npz).read_text())
        st = npz.stat()
    except (OSError, ValueError):
        return None
    if (meta.get("size"), meta.get("mtime_ns"), meta.get("inode")) != (st.st_size, st.st_mtime_ns, st.st_ino):
        return None  # replaced or rewritten since it was verified
    return meta


def recorded(npz: Path) -> dict:
    """The sidecar as written, even if the file changed since ({} when there is none)."""
    try:
        meta = json.loads(sidecar_path(npz).read_text())
    except (OSError, ValueError):
        return {}
    return meta if isinstance(meta, dict) else {}


def remember(npz: Path, arrays: dict[str, np.ndarray], hashes: dict[str, str], **extra) -> dict:
    """Record the verified state of `npz` in its sidecar and return it."""
    st = npz.stat()
    meta = {
        **extra,  # first: the measured fields below always win over stale copies
        "file": npz.name,
        "size": st.st_size,
        "mtime_ns": st.st_mtime_ns,
        "inode": st.st_ino,  # a replaced file is new even within one mtime tick
        "sha256": hashes,
        "shapes": {k: list(v.shape) for k, v in arrays.items()},
        "dtypes": {k: str(v.dtype) for k, v in arrays.items()},
    }
    text = json.dumps(meta, indent=1, sort_keys=True).encode()
    write_atomic(sidecar_path(npz), lambda f: f.write(text))
    return meta


def store(name: str, arrays: dict[str, np.ndarray], hashes: dict[str, str] | None = None,
          **extra) -> tuple[Path, dict]:
    """Install arrays as the cache file of `name` (uncompressed, atomic) and remember their hashes."""
    path = cache_path(name)
    arrays = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    write_atomic(path, lambda f: np.savez(f, **arrays))
    return path, remember(path, arrays, hashes or hash_arrays(arrays), **extra)


def load_verified(name: str, path: Path | None = None) -> tuple[dict[str, np.ndarray], dict] | None:
    """The cached arrays of `name` and their sidecar, hashing them only when not remembered yet.

    None when there is no cache file. A file whose arrays differ from the published hashes is an
    error naming the file and the fix, never silently used.
    """
    path = path or cache_path(name)
    if not path.is_file():
        return None
    arrays = read_npz(path)
    missing = [k for k in ARRAY_KEYS if k not in arrays]
    if missing:
        raise UserError(f"{path}: missing arrays {missing}; expected {list(ARRAY_KEYS)} "
                        f"(delete it, or reinstall with `hyperlab datasets import {name} FILE.npz`)")
    meta = remembered(path)
    if meta is None:
        hashes = hash_arrays(arrays)
        previous = recorded(path)
        bad = hash_problems(name, hashes, previous)
        if bad:
            raise UserError(f"{path}: {bad[0]} (damaged or a different dataset: delete it and load "
                            f"again, or reinstall with `hyperlab datasets import {name} FILE.npz`)")
        keep = {k: previous[k] for k in ("source",) if k in previous}
        meta = remember(path, arrays, hashes, verified=verification_label(name), **keep)
    bad = published_mismatches(name, meta.get("sha256", {}))
    if bad:  # a sidecar from before the published table changed
        sidecar_path(path).unlink(missing_ok=True)
        return load_verified(name, path)
    return arrays, meta
