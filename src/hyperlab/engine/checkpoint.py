"""Trial checkpoints without pickle: tensors in `checkpoint.safetensors`, the rest in `checkpoint.json`.

Each file is written atomically (temp file + fsync + os.replace). The JSON document carries the
SHA-256 of the tensor file and of itself, so a checkpoint is resumed only when both halves are
exactly what was written together: a torn pair (a crash between the two renames), a truncated,
garbled or bit-flipped file all fail verification. The previous checkpoint is kept in `previous/`;
one that fails verification is discarded with a warning and the trial resumes from the previous
one, or starts over when neither verifies: never from damaged state, never with wrong numbers.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
import warnings
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

TENSORS_FILE = "checkpoint.safetensors"
STATE_FILE = "checkpoint.json"
PREVIOUS_DIR = "previous"  # the checkpoint before the current one (the last two are kept)
FORMAT = 2  # 2: SHA-256 of both halves; format 1 (a shared token, no hash) is not resumed


class CheckpointError(ValueError):
    """A checkpoint that fails verification; the message says which file and why."""


def _write_atomic(path: Path, data: bytes) -> Path:
    """Write `data` to a fsynced temp file beside `path`; returns the temp file (not yet renamed)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return Path(tmp)


def write_file_atomic(path: Path, data: bytes) -> None:
    """`data` as the file `path` (fsynced temp file + rename): a reader never sees half of it."""
    path.parent.mkdir(parents=True, exist_ok=True)
    os.replace(_write_atomic(path, data), path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _document_hash(document: dict[str, Any]) -> str:
    """The hash of a checkpoint document without its own `sha256_json` entry (canonical JSON)."""
    body = {k: v for k, v in document.items() if k != "sha256_json"}
    return _sha256(json.dumps(body, sort_keys=True, allow_nan=False).encode())


def save_checkpoint(workdir: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Write one checkpoint (the current one becomes `previous/`); `state` must be JSON-serialisable.
    Raises OSError when the files cannot be written (e.g. ENOSPC); the earlier checkpoints stay."""
    workdir.mkdir(parents=True, exist_ok=True)
    # Separate CPU copies: safetensors refuses tensors that share memory (tied weights).
    cpu = {name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}
    raw = save_tensors(cpu)
    document = {"format": FORMAT, "sha256_tensors": _sha256(raw), **state}
    document["sha256_json"] = _document_hash(document)
    _install(workdir, raw, json.dumps(document, allow_nan=False).encode())


def install_checkpoint(workdir: Path, tensors_raw: bytes, state_raw: bytes) -> int:
    """Write a checkpoint received as the bytes of its two files (from another machine) exactly as
    `save_checkpoint` would, after checking both halves against their hashes; returns its epoch.
    Raises CheckpointError when the bytes do not verify (nothing is written then)."""
    document = _verified_document(Path("checkpoint received"), tensors_raw, state_raw)
    workdir.mkdir(parents=True, exist_ok=True)
    _install(workdir, tensors_raw, state_raw)
    return int(document.get("epoch", 0))


def checkpoint_files(workdir: Path) -> tuple[bytes, bytes] | None:
    """The bytes of the newest checkpoint in `workdir` that verifies (tensors file, state file), to
    send to another machine; None when there is none. Nothing is removed."""
    for folder in (workdir, workdir / PREVIOUS_DIR):
        try:
            raw, state_raw = (folder / TENSORS_FILE).read_bytes(), (folder / STATE_FILE).read_bytes()
            _verified_document(folder / STATE_FILE, raw, state_raw)
        except (OSError, CheckpointError):
            continue
        return raw, state_raw
    return None


def _verified_document(state_path: Path, raw: bytes, state_raw: bytes) -> dict[str, Any]:
    document = _checked_state(state_path, state_raw)
    if _sha256(raw) != document.get("sha256_tensors"):
        raise CheckpointError(f"{state_path.parent / TENSORS_FILE}: its SHA-256 does not match the one in "
                              f"{STATE_FILE}")
    return document


def _checked_state(state_path: Path, state_raw: bytes) -> dict[str, Any]:
    try:
        document = json.loads(state_raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CheckpointError(f"{state_path}: not valid JSON ({exc})") from exc
    if not isinstance(document, dict) or document.get("format") != FORMAT:
        found = document.get("format") if isinstance(document, dict) else None
        raise CheckpointError(f"{state_path}: format {found!r}, this hyperlab resumes format {FORMAT}")
    if document.get("sha256_json") != _document_hash(document):
        raise CheckpointError(f"{state_path}: its SHA-256 does not match its contents")
    return document


def _install(workdir: Path, raw: bytes, state_raw: bytes) -> None:
    """Both files of a checkpoint, atomically, the current pair becoming `previous/`."""
    temps: list[Path] = []
    try:
        temps.append(_write_atomic(workdir / TENSORS_FILE, raw))
        temps.append(_write_atomic(workdir / STATE_FILE, state_raw))
        if (workdir / STATE_FILE).is_file():  # keep the current checkpoint as the previous one
            previous = workdir / PREVIOUS_DIR
            previous.mkdir(exist_ok=True)
            for name in (STATE_FILE, TENSORS_FILE):
                if (workdir / name).is_file():
                    os.replace(workdir / name, previous / name)
        os.replace(temps[0], workdir / TENSORS_FILE)
        os.replace(temps[1], workdir / STATE_FILE)
    finally:
        for tmp in temps:
            tmp.unlink(missing_ok=True)


def verify_checkpoint(folder: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """The checkpoint in `folder` as (CPU tensors, state), after checking both halves against the
    hashes written with them. Raises FileNotFoundError when there is none, CheckpointError when it
    does not verify."""
    tensors_path, state_path = folder / TENSORS_FILE, folder / STATE_FILE
    if not state_path.is_file():
        raise FileNotFoundError(state_path)
    state_raw = state_path.read_bytes()
    if not tensors_path.is_file():
        _checked_state(state_path, state_raw)  # a bad state file is named before the missing half
        raise CheckpointError(f"{tensors_path}: missing")
    raw = tensors_path.read_bytes()
    document = _verified_document(state_path, raw, state_raw)
    try:
        tensors = load_tensors(raw)
    except Exception as exc:  # noqa: BLE001 - hashed bytes that still do not parse: a writer's bug
        raise CheckpointError(f"{tensors_path}: not a safetensors file ({exc})") from exc
    return tensors, document


def load_checkpoint(workdir: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """The newest checkpoint in `workdir` that verifies, as (CPU tensors, state); None when there is
    none. A checkpoint that fails verification is removed with a warning (RuntimeWarning)."""
    folders = [workdir, workdir / PREVIOUS_DIR]
    for index, folder in enumerate(folders):
        try:
            return verify_checkpoint(folder)
        except FileNotFoundError:
            continue
        except CheckpointError as exc:
            later = [f for f in folders[index + 1:] if (f / STATE_FILE).is_file()]
            fallback = "resuming from the previous one" if later else "starting the trial over"
            warnings.warn(f"checkpoint discarded: {exc}; {fallback}", RuntimeWarning, stacklevel=2)
            for name in (STATE_FILE, TENSORS_FILE):
                (folder / name).unlink(missing_ok=True)
    return None


def flatten_optimizer(state_dict: dict[str, Any]) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    """Split `optimizer.state_dict()` into tensors ("optim/<param>/<key>") and JSON (the rest)."""
    tensors: dict[str, torch.Tensor] = {}
    scalars: dict[str, dict[str, Any]] = {}
    for index, per_param in state_dict["state"].items():
        for key, value in per_param.items():
            if isinstance(value, torch.Tensor):
                tensors[f"optim/{index}/{key}"] = value
            else:
                scalars.setdefault(str(index), {})[key] = value
    return tensors, {"param_groups": state_dict["param_groups"], "scalars": scalars}


def unflatten_optimizer(tensors: dict[str, torch.Tensor], json_state: dict[str, Any]) -> dict[str, Any]:
    """The inverse of `flatten_optimizer`, ready for `optimizer.load_state_dict`."""
    state: dict[int, dict[str, Any]] = {}
    for name, value in tensors.items():
        if name.startswith("optim/"):
            _, index, key = name.split("/", 2)
            state.setdefault(int(index), {})[key] = value
    for index, values in json_state["scalars"].items():
        state.setdefault(int(index), {}).update(values)
    return {"state": state, "param_groups": json_state["param_groups"]}
