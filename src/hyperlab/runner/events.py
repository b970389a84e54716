"""Run events: what a runner reports while it works, and the sinks that show or record them.

Every event is a flat JSON-serialisable dict with an `event` field:

    run_started     study, workspace, planned, to_train, reused, over_budget, workers
    trial_started   key, variant, seed, epochs (planned), resumed_from (last stored epoch, 0 = fresh)
    epoch           key, variant, seed, epoch, epochs, metrics (the engine's epoch record)
    trial_finished  key, variant, seed, status, seconds, stop_reason, error, final (headline metrics)
    waiting         trials (how many are being trained by other processes)
    search_note     message (a search study: how its trials train, or why it stopped early)
    note            message (something the run decided for the user, e.g. fewer --workers than asked)
    seeds_added     variant, seed, reason (seeds = { min, max, target }: a seed added until settled)
    report_started  study (the report is being written: figures take a while)
    run_finished    study, statuses ({status: count}), trained, interrupted, report, seconds

Multi-process runs add `worker` (an index) to the events of each worker process. `--executor ray`
adds `node` (the Ray node's id, 8 hex digits) to `trial_started` (with `node_ip`, `submission`: 1, 2
after a lost node..., and `checkpoint`: the epoch of the checkpoint it resumes from, 0 = none) and to
`epoch`, and emits

    trial_requeued  key, variant, seed, node, reason (its node was lost: resubmitted from its checkpoint)
"""

from __future__ import annotations

import errno
import json
import math
import sys
from collections.abc import Callable
from typing import IO, Protocol


class OutputClosed(Exception):  # noqa: N818  (an event, not an error of the program)
    """The reader of the run's output went away (`hyperlab run --jsonl | head -1`, a closed
    terminal). Not the trial's fault: the run stops, the trials in flight stay resumable."""


OUTPUT_GONE_ERRNOS = {errno.EPIPE, errno.EIO}  # a pipe with no reader; a terminal that was closed


def guard_output(emit: Callable[[dict], None], event: dict) -> None:
    """`emit(event)`, turning a write to a vanished reader into OutputClosed."""
    try:
        emit(event)
    except OSError as exc:
        if isinstance(exc, BrokenPipeError) or exc.errno in OUTPUT_GONE_ERRNOS:
            raise OutputClosed(str(exc)) from exc
        raise


class EventSink(Protocol):
    """Receives run events. Implementations must not raise for an event they do not know."""

    def emit(self, event: dict) -> None: ...

    def close(self) -> None: ...


class QuietSink:
    """Shows nothing."""

    def emit(self, event: dict) -> None:
        pass

    def close(self) -> None:
        pass


class JsonlSink:
    """One JSON object per line (non-finite floats become null, so every line is strict JSON)."""

    def __init__(self, stream: IO[str] | None = None) -> None:
        self._stream = stream

    def emit(self, event: dict) -> None:
        stream = self._stream or sys.stdout
        stream.write(json.dumps(strict_json(event), allow_nan=False) + "\n")
        stream.flush()

    def close(self) -> None:
        pass


class ListSink:
    """Keeps every event in `events` (for the Python API and tests)."""

    def __init__(self) -> None:
        self.events: list[dict] = []

    def emit(self, event: dict) -> None:
        self.events.append(event)

    def close(self) -> None:
        pass


def strict_json(value: object) -> object:
    """`value` with NaN and infinities replaced by None, recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {str(k): strict_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [strict_json(v) for v in value]
    return value


HEADLINE_KEYS = ("test_accuracy", "test_loss", "test_mse", "test_r2", "val_accuracy", "val_loss")
"""The final metrics repeated in `trial_finished` (the full set is in the store)."""


def headline(final: dict | None) -> dict:
    if not final:
        return {}
    return {k: final[k] for k in HEADLINE_KEYS if final.get(k) is not None}
