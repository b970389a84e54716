"""`hyperlab datasets import` and `verify`: put a checked npz into the cache, re-hash what is there."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from hyperlab.data import cache
from hyperlab.data.dataset import ARRAY_KEYS
from hyperlab.data.registry import OFFICIAL, OFFICIAL_SHAPES
from hyperlab.errors import UserError


def import_npz(name: str, file: Path) -> tuple[Path, dict]:
    """Check `file` (keys, shapes, dtypes, label range, published SHA-256s) and install it atomically.

    Labels may be any integer dtype, (N,) or (N, 1) (Keras stores CIFAR labels that way); they are
    stored as uint8 (N,), the published convention. Nothing is written unless every check passes.
    """
    if name not in OFFICIAL:
        raise UserError(f"datasets import: NAME must be one of {', '.join(OFFICIAL)}, got {name!r} "
                        "(other arrays need no import: use dataset = \"npz:PATH\")")
    if not file.is_file():
        raise UserError(f"datasets import: {file}: no such file")
    arrays = cache.read_npz(file)
    if set(arrays) != set(ARRAY_KEYS):
        raise UserError(f"{file}: arrays {sorted(arrays)}; expected exactly {list(ARRAY_KEYS)}")
    n_classes = len(OFFICIAL[name].classes)
    for split, want_shape in zip(("train", "test"), OFFICIAL_SHAPES[name], strict=True):
        x, y = arrays[f"x_{split}"], arrays[f"y_{split}"]
        if x.dtype != np.uint8 or x.shape != want_shape:
            raise UserError(f"{file}: x_{split} is {x.dtype} {x.shape}; {name} needs uint8 {want_shape}")
        if y.ndim == 2 and y.shape[1] == 1:
            y = y.reshape(-1)
        if not np.issubdtype(y.dtype, np.integer) or y.shape != want_shape[:1]:
            raise UserError(f"{file}: y_{split} is {y.dtype} {y.shape}; {name} needs integers "
                            f"({want_shape[0]},)")
        if y.size and (int(y.min()) < 0 or int(y.max()) >= n_classes):
            raise UserError(f"{file}: y_{split} has labels outside 0..{n_classes - 1}")
        arrays[f"y_{split}"] = y.astype(np.uint8)
    hashes = cache.hash_arrays(arrays)
    bad = cache.published_mismatches(name, hashes)
    if bad:
        raise UserError(f"{file}: {bad[0]}: not the published {name}; nothing was installed")
    return cache.store(name, arrays, hashes, verified=cache.verification_label(name),
                       source=f"imported from {file.resolve()}")


@dataclass(frozen=True)
class VerifyResult:
    name: str
    path: Path
    ok: bool
    message: str


def verify_cache(name: str | None = None) -> list[VerifyResult]:
    """Re-hash cached datasets (all, or `name`) against the published or the recorded hashes."""
    if name is not None:
        paths = [cache.cache_path(name)]
        if not paths[0].is_file():
            raise UserError(f"datasets verify: {name} is not in the cache ({paths[0]})")
    else:
        paths = sorted(cache.datasets_dir().glob("*.npz")) if cache.datasets_dir().is_dir() else []
    return [_verify_one(path) for path in paths]


def _verify_one(path: Path) -> VerifyResult:
    name = path.stem
    try:
        arrays = cache.read_npz(path)
    except UserError as exc:
        return VerifyResult(name, path, False, str(exc))
    hashes = cache.hash_arrays(arrays)
    previous = cache.recorded(path)
    bad = cache.hash_problems(name, hashes, previous)
    if bad:
        return VerifyResult(name, path, False, bad[0])
    verified = cache.verification_label(name) if name in cache.PUBLISHED_SHA256 else (
        previous.get("verified") or "sha256 recorded")
    cache.remember(path, arrays, hashes, **{**previous, "verified": verified})
    return VerifyResult(name, path, True, verified)
