"""`RunSettings`: where and how fast trials run. Passed beside a `TrialConfig`, never inside it.

Nothing here changes what a trial learns (on one device), so none of it is part of a trial's key
or of its checkpoint's fingerprint: a study killed under `--workers 2 --threads 1` resumes under
`--workers 1 --threads 2` from its checkpoints. Study files may still set `train.device`,
`train.threads`, `train.eval_batch_size`, `train.channels_last` and `data.root`: they are the
run's defaults, which the command line (or the Python API) overrides.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Device = Literal["auto", "cpu", "cuda"]
DEVICES: tuple[str, ...] = ("auto", "cpu", "cuda")


class RunSettings(BaseModel):
    """How a run trains its trials: the device, CPU threads, processes, and the executor."""

    model_config = ConfigDict(extra="forbid", frozen=True, use_attribute_docstrings=True)

    device: Device = "auto"
    """Where to train: auto picks cuda when available."""

    threads: int | None = Field(default=None, ge=1)
    """Torch CPU threads per process, set once when the process starts (null = torch's default, or
    cores // workers with several workers)."""

    workers: int = Field(default=1, ge=1)
    """Processes on this machine sharing the trials."""

    eval_batch_size: int = Field(default=1024, ge=1)
    """Examples per forward pass during evaluation (memory only; results do not depend on it)."""

    channels_last: bool = False
    """Run image models in the channels-last memory layout (speed only; results agree to float
    rounding, not bit for bit: docs/performance.md)."""

    checkpoint_every: int | None = Field(default=1, ge=1)
    """Trials write their checkpoints every this many evaluated epochs (null: by
    `checkpoint_seconds` only), and always at each trial's end. A run killed in between resumes
    its trials from their last checkpoint, training the epochs since again (docs/performance.md).
    Default 1: a kill loses at most the epoch in flight; a stack writes them in the background."""

    checkpoint_seconds: float | None = Field(default=None, gt=0)
    """A stack also checkpoints at the first evaluated epoch this many seconds after its last
    checkpoint (null: by `checkpoint_every` only; both null: only at each trial's end)."""

    data_root: str | None = None
    """Folder with official dataset files (archives, IDX .gz). Default: $HYPERLAB_DATA."""

    executor: Literal["vectorized", "local", "ray"] = "vectorized"
    """vectorized: compatible trials of one seed train as one stacked model; local: one at a time;
    ray: one Ray task per trial on a cluster (docs/distributed.md)."""

    executor_options: dict[str, Any] = Field(default_factory=dict)
    """Options of the executor (vectorized: max_group; ray: address, cpus_per_trial, gpus_per_trial)."""

    def with_overrides(self, **changes: Any) -> RunSettings:
        """These settings with every change that is not None applied (validated)."""
        update = {k: v for k, v in changes.items() if v is not None}
        if not update:
            return self
        return RunSettings.model_validate({**self.model_dump(), **update})


RUN_KEYS: dict[tuple[str, str], str] = {
    ("train", "device"): "device",
    ("train", "threads"): "threads",
    ("train", "eval_batch_size"): "eval_batch_size",
    ("train", "channels_last"): "channels_last",
    ("train", "checkpoint_every"): "checkpoint_every",
    ("train", "checkpoint_seconds"): "checkpoint_seconds",
    ("data", "root"): "data_root",
}
"""Study-file keys that are run defaults, not trial config: (section, key) -> RunSettings field."""
