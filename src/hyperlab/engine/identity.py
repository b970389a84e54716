"""A trial's identity: one hash of what determines its results, used both as the store's trial key
(its first 16 hex characters, hyperlab.plan.keys) and as the fingerprint a checkpoint must carry to
be resumed. One definition, so a checkpoint is resumable exactly when the key matches.

What is in it: the trial config (`TrialConfig`, every default filled in, so writing a default
explicitly or reordering keys changes nothing), the seed, ENGINE_VERSION, and the data fingerprint
(what the data files contain: hyperlab.data.fingerprint). What is not: the run settings (device,
threads, workers, ...: hyperlab.engine.settings), which change where and how fast a trial runs.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hyperlab.engine import version


def canonical_config(config: Any) -> dict[str, Any]:
    """The trial config as JSON data with every default filled in."""
    return config.model_dump(mode="json")


def trial_identity(config: Any, seed: int, data_fingerprint: str | None = None) -> str:
    """Hex SHA-256 of the canonical JSON (sorted keys) of the config, the seed, ENGINE_VERSION and the
    data fingerprint (None where it is not known: a trial trained outside a plan)."""
    payload: dict[str, Any] = {"config": canonical_config(config), "seed": int(seed),
                               "engine": version.ENGINE_VERSION}
    if data_fingerprint is not None:
        payload["data"] = data_fingerprint
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()
