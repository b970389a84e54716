"""Trial checkpoints without pickle: tensors in `checkpoint.safetensors`, the rest in `checkpoint.json`.

The two files are written one after the other, each atomically (temp file + fsync + os.replace). A
random token stored in both tells a matching pair from one torn by a crash between the two renames;
a torn pair is ignored (the trial starts over) rather than resumed from mismatched halves.
"""

from __future__ import annotations

import json
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import torch
from safetensors.torch import load as load_tensors
from safetensors.torch import save as save_tensors

TENSORS_FILE = "checkpoint.safetensors"
STATE_FILE = "checkpoint.json"
FORMAT = 1


def _write_atomic(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def save_checkpoint(workdir: Path, tensors: dict[str, torch.Tensor], state: dict[str, Any]) -> None:
    """Write one checkpoint; `state` must be JSON-serialisable."""
    workdir.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex
    # Separate CPU copies: safetensors refuses tensors that share memory (tied weights).
    cpu = {name: t.detach().to("cpu", copy=True).contiguous() for name, t in tensors.items()}
    _write_atomic(workdir / TENSORS_FILE, save_tensors(cpu, metadata={"token": token}))
    document = {"format": FORMAT, "token": token, **state}
    _write_atomic(workdir / STATE_FILE, json.dumps(document, allow_nan=False).encode())


def load_checkpoint(workdir: Path) -> tuple[dict[str, torch.Tensor], dict[str, Any]] | None:
    """The checkpoint in `workdir` as (CPU tensors, state), or None when there is no complete one."""
    tensors_path, state_path = workdir / TENSORS_FILE, workdir / STATE_FILE
    if not (tensors_path.is_file() and state_path.is_file()):
        return None
    state = json.loads(state_path.read_text())
    raw = tensors_path.read_bytes()
    if state.get("format") != FORMAT or _token(raw) != state.get("token"):
        return None
    return load_tensors(raw), state


def _token(raw: bytes) -> str | None:
    header_len = int.from_bytes(raw[:8], "little")  # safetensors: u64 header size, then JSON header
    header = json.loads(raw[8:8 + header_len])
    return header.get("__metadata__", {}).get("token")


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
