"""Trial keys: a content hash of what determines a trial's results.

Two trials with the same key would train to the same numbers, so a key already in the store is
reused instead of trained again: editing a study (one more level, one more seed) trains only what
is new, and a level equal to the baseline shares the baseline's trials.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from hyperlab.engine import ENGINE_VERSION, TrialConfig

# Config keys left out of the key because they change where or how fast a trial runs, not its
# results. Keep this list short: a key wrongly left out makes different trials share results.
NOT_IN_KEY: tuple[tuple[str, str], ...] = (
    ("train", "device"),  # a trial trained on a GPU is not retrained on the CPU (nor the reverse)
    ("train", "threads"),  # CPU threads: speed only
    ("train", "eval_batch_size"),  # evaluation chunking: memory only (the engine documents this)
    ("train", "channels_last"),  # memory layout: speed only, results equal up to float rounding
    ("data", "root"),  # where the official files were found; their contents are checksummed
)

KEY_LENGTH = 16  # hex characters of the SHA-256 kept: 64 bits, ample for one workspace


def canonical_config(config: TrialConfig) -> dict[str, Any]:
    """The config as JSON data with every default filled in, minus the keys in NOT_IN_KEY."""
    data = config.model_dump(mode="json")
    for section, key in NOT_IN_KEY:
        data.get(section, {}).pop(key, None)
    return data


def trial_key(config: TrialConfig, seed: int) -> str:
    """Hex digest of the canonical JSON (sorted keys) of the config, the seed and ENGINE_VERSION."""
    payload = {"config": canonical_config(config), "seed": int(seed), "engine": ENGINE_VERSION}
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()[:KEY_LENGTH]
