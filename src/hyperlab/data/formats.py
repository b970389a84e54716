"""Decoders for the official file formats: CIFAR python pickles, tar archives, MNIST IDX.

Nothing here trusts its input: CIFAR pickles go through an unpickler that only builds numpy arrays,
tar members are read in memory (never extracted) after every member of the archive has been
checked, and IDX headers must agree with the file's length.
"""

from __future__ import annotations

import codecs
import gzip
import io
import pickle
import struct
import tarfile
import zlib
from pathlib import Path, PurePosixPath

import numpy as np

from hyperlab.errors import UserError

try:  # numpy >= 2 moved the pickle reconstruction helpers to numpy._core
    from numpy._core import multiarray as _multiarray
except ImportError:  # pragma: no cover - numpy 1.x
    from numpy.core import multiarray as _multiarray


class _NumpyOnlyUnpickler(pickle.Unpickler):
    """Unpickles dicts, lists, bytes and numpy arrays; refuses every other global (no code runs)."""

    _ALLOWED = {
        ("numpy.core.multiarray", "_reconstruct"): _multiarray._reconstruct,
        ("numpy._core.multiarray", "_reconstruct"): _multiarray._reconstruct,
        ("numpy", "ndarray"): np.ndarray,
        ("numpy", "dtype"): np.dtype,
        ("_codecs", "encode"): codecs.encode,  # protocol-2 bytes written by Python 3
    }

    def find_class(self, module: str, name: str):
        try:
            return self._ALLOWED[(module, name)]
        except KeyError:
            raise pickle.UnpicklingError(f"global {module}.{name} is not allowed") from None


def unpickle_numpy(data: bytes, what: str) -> dict[str, object]:
    """A CIFAR batch (a pickled dict) with str keys; `what` names it in errors."""
    try:
        obj = _NumpyOnlyUnpickler(io.BytesIO(data), encoding="bytes").load()
    except Exception as exc:  # UnpicklingError, EOFError, ValueError...: not a CIFAR batch
        raise UserError(f"{what}: not a CIFAR python batch ({type(exc).__name__}: {exc})") from exc
    if not isinstance(obj, dict):
        raise UserError(f"{what}: not a CIFAR python batch (a {type(obj).__name__}, not a dict)")
    return {k.decode("latin1") if isinstance(k, bytes) else str(k): v for k, v in obj.items()}


def cifar_arrays(batch: dict[str, object], label_key: str, what: str) -> tuple[np.ndarray, np.ndarray]:
    """(images uint8 NHWC, labels uint8) of one batch: `data` rows are 3072 bytes, channel-major."""
    try:
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch[label_key])
    except KeyError as exc:
        raise UserError(f"{what}: no {exc} entry; not a CIFAR python batch") from None
    if data.ndim != 2 or data.shape[1] != 3 * 32 * 32 or labels.shape != (data.shape[0],):
        raise UserError(f"{what}: data {data.shape} / labels {labels.shape}; expected (N, 3072) / (N,)")
    if labels.min(initial=0) < 0 or labels.max(initial=0) > 255:
        raise UserError(f"{what}: labels outside 0..255")
    images = data.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)  # N, C, H, W -> N, H, W, C (a view)
    return images, labels.astype(np.uint8)


def label_names(meta: dict[str, object], key: str) -> list[str]:
    return [n.decode() if isinstance(n, bytes) else str(n) for n in meta.get(key, [])]


# --- tar archives -------------------------------------------------------------------------------


def check_member(member: tarfile.TarInfo, archive: Path) -> str:
    """The member's normalised name; refuses names that escape the archive's folder and links."""
    path = PurePosixPath(member.name)
    if path.is_absolute() or ".." in path.parts:
        raise UserError(f"{archive}: member {member.name!r} points outside the archive; refusing it")
    if not (member.isfile() or member.isdir()):
        raise UserError(f"{archive}: member {member.name!r} is a link or special file; refusing it")
    return str(path)  # PurePosixPath drops "./" prefixes and doubled slashes


def read_tar(archive: Path, wanted: set[str]) -> dict[str, bytes]:
    """The bytes of the `wanted` members of a (compressed) tar, after checking every member."""
    found: dict[str, bytes] = {}
    try:
        with tarfile.open(archive, "r:*") as tar:
            for member in tar:
                name = check_member(member, archive)
                if name in wanted and member.isfile():
                    found[name] = tar.extractfile(member).read()
    except (tarfile.TarError, EOFError, zlib.error, OSError) as exc:
        raise UserError(f"{archive}: not a readable tar archive ({type(exc).__name__}: {exc})") from exc
    missing = sorted(wanted - found.keys())
    if missing:
        raise UserError(f"{archive}: missing {', '.join(missing)}")
    return found


def read_members(source: Path, folder: str, names: list[str]) -> dict[str, bytes]:
    """Files `names` of `folder`, from the extracted folder `source` or from the archive `source`."""
    if source.is_dir():
        missing = [n for n in names if not (source / n).is_file()]
        if missing:
            raise UserError(f"{source}: missing {', '.join(missing)}")
        return {n: (source / n).read_bytes() for n in names}
    raw = read_tar(source, {f"{folder}/{n}" for n in names})
    return {n: raw[f"{folder}/{n}"] for n in names}


# --- MNIST IDX ----------------------------------------------------------------------------------


def read_idx(path: Path) -> np.ndarray:
    """A uint8 IDX file (gzip-compressed or not): images (N, H, W) or labels (N,)."""
    raw = path.read_bytes()
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise UserError(f"{path}: damaged gzip data ({exc})") from exc
    if len(raw) < 8 or raw[:3] != b"\x00\x00\x08" or raw[3] not in (1, 3):
        raise UserError(f"{path}: not a uint8 IDX image or label file")
    ndim = raw[3]
    dims = struct.unpack(f">{ndim}I", raw[4 : 4 + 4 * ndim])
    offset = 4 + 4 * ndim
    if len(raw) - offset != int(np.prod(dims)):
        raise UserError(f"{path}: header says {dims}, but holds {len(raw) - offset} bytes of data")
    return np.frombuffer(raw, np.uint8, offset=offset).reshape(dims)
