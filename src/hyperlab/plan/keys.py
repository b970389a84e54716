"""Trial keys: a content hash of what determines a trial's results.

Two trials with the same key would train to the same numbers, so a key already in the store is
reused instead of trained again: editing a study (one more level, one more seed) trains only what
is new, and a level equal to the baseline shares the baseline's trials. The hash is the engine's
trial identity (hyperlab.engine.identity), which is also what a checkpoint must match to resume.
"""

from __future__ import annotations

from typing import Any

from hyperlab.engine.identity import canonical_config, trial_identity
from hyperlab.engine.settings import RUN_KEYS

# Study-file keys that never reach a trial's config (they are run settings: where and how fast a
# trial runs, not its results), hence never its key.
NOT_IN_KEY: tuple[tuple[str, str], ...] = tuple(RUN_KEYS)

KEY_LENGTH = 16  # hex characters of the SHA-256 kept: 64 bits, ample for one workspace

__all__ = ["KEY_LENGTH", "NOT_IN_KEY", "canonical_config", "trial_key"]


def trial_key(config: Any, seed: int, data_fingerprint: str | None = None) -> str:
    """The first KEY_LENGTH hex characters of the trial's identity."""
    return trial_identity(config, seed, data_fingerprint)[:KEY_LENGTH]
