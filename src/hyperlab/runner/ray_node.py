"""The part of `--executor ray` that runs on a cluster node: train one trial, stream what happened.

`train_on_node` is the body of a Ray streaming-generator task (runner/ray_executor.py wraps it). It
never sees the driver's workspace: the trial's config, seed and run settings arrive as plain data,
its last committed checkpoint as bytes, the dataset as arrays the driver put once into Ray's object
store (so each node fetches it once). It trains with the same call as the local runner (`train_one`), in a
node-local temporary folder, and yields, in order:

    {"kind": "started", "node": ..., "node_ip": ...}
    {"kind": "epoch", "record": {...}}                          after each evaluated epoch
    {"kind": "checkpoint", "tensors": b"...", "state": b"..."}  the checkpoint of that epoch
    {"kind": "files", "files": {name: bytes}}                    what the trial leaves (predictions)
    {"kind": "result", "outcome": {...}}                         the engine's TrialResult as a dict

A trial the run may prune (a search with a pruner) waits after each epoch for the driver's answer:
the driver commits the epoch, asks the run's prune hook (as every executor does, through
hyperlab.runner.lifecycle.ClaimedTrial) and posts the answer on a `PruneBoard` actor; the engine
here then ends the trial `pruned` exactly as a local run's engine does (the epoch checkpointed, the
same result), or goes on.

Each checkpoint is sent after its epoch record, as the engine writes them, so the driver commits
the epoch before the checkpoint exactly as the local runner does. The checkpoint files carry their
SHA-256 (engine/checkpoint.py); the driver verifies them before writing them into the trial folder.
"""

from __future__ import annotations

import contextlib
import queue
import tempfile
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

_DONE = object()  # the training thread has finished (its result or error is already queued)
ARRAYS = ("x_train", "y_train", "x_val", "y_val", "x_test", "y_test")


def splits_to_data(splits: Any) -> dict:
    """A `hyperlab.data.Splits` as plain data (numpy arrays and JSON values) for Ray's object store."""
    data = {name: getattr(splits, name).cpu().numpy() for name in ARRAYS}
    data.update(task=splits.task, input_shape=list(splits.input_shape), classes=list(splits.classes),
                val_is_test=bool(splits.val_is_test), info=dict(splits.info))
    return data


def splits_from_data(data: dict) -> Any:
    """The inverse of `splits_to_data`. The arrays are copied: those Ray hands over are read-only
    views of the node's shared object store."""
    import torch

    from hyperlab.data.splits import Splits

    tensors = {name: torch.from_numpy(np.array(data[name], copy=True)) for name in ARRAYS}
    return Splits(data["task"], tuple(data["input_shape"]), list(data["classes"]), **tensors,
                  val_is_test=bool(data["val_is_test"]), info=dict(data["info"]))


class PruneBoard:
    """A Ray actor (async: waiting answers do not block posting ones) where the driver posts, per
    trial submission and epoch, whether the trial stops: None goes on, a text is the prune reason."""

    def __init__(self) -> None:
        self._answers: dict[str, str | None] = {}
        self._posted: dict[str, Any] = {}

    def _event(self, slot: str) -> Any:
        import asyncio

        return self._posted.setdefault(slot, asyncio.Event())

    async def post(self, slot: str, why: str | None) -> None:
        self._answers[slot] = why
        self._event(slot).set()

    async def answer(self, slot: str) -> str | None:
        await self._event(slot).wait()
        self._posted.pop(slot, None)
        return self._answers.pop(slot, None)


def prune_slot(key: str, submission: int, epoch: int) -> str:
    """The board's name for one answer: a resubmitted trial asks afresh."""
    return f"{key}/{submission}/{epoch}"


def _wait_for_answer(board: Any, slot: str, stop: threading.Event) -> str | None:
    """The driver's answer for `slot`; None when the task is being stopped (then `should_stop` ends
    the trial as interrupted at the epoch boundary, as a cancelled task does)."""
    import ray

    ref = board.answer.remote(slot)
    while not stop.is_set():
        try:
            return ray.get(ref, timeout=0.5)
        except ray.exceptions.GetTimeoutError:
            continue
    return None


def train_on_node(job: dict, data: dict) -> Iterator[dict]:
    """Train the trial `job` describes (config, seed, settings, data_fingerprint, threads,
    checkpoint) on `data`; yields the events listed in the module docstring. A stop requested by
    the driver (the task cancelled) ends the training after the current epoch."""
    from hyperlab.engine import RunSettings, TrialConfig
    from hyperlab.engine.checkpoint import install_checkpoint
    from hyperlab.engine.determinism import set_threads

    yield {"kind": "started", **_node()}
    config = TrialConfig.from_stored(job["config"])
    settings = RunSettings.model_validate(job["settings"])
    set_threads(job.get("threads"))
    splits = splits_from_data(data)
    with tempfile.TemporaryDirectory(prefix="hyperlab-trial-") as tmp:
        workdir = Path(tmp)
        if job.get("checkpoint") is not None:
            tensors, state = job["checkpoint"]
            install_checkpoint(workdir, tensors, state)  # verified: a garbled transfer raises here
        # Bounded: when the driver falls behind, Ray pauses this generator and the full queue then
        # pauses training too, instead of piling up checkpoints in this node's memory.
        events: queue.Queue = queue.Queue(maxsize=4)
        stop = threading.Event()
        trainer = threading.Thread(
            target=_train, args=(config, job, settings, splits, workdir, events, stop), daemon=True)
        trainer.start()
        try:
            while (item := events.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                yield item
        finally:
            stop.set()  # the task was cancelled or failed: stop after the current epoch
            while trainer.is_alive():  # empty the queue so a blocked put cannot keep the thread alive
                with contextlib.suppress(queue.Empty):
                    events.get_nowait()
                trainer.join(0.05)


def _train(config: Any, job: dict, settings: Any, splits: Any, workdir: Path, events: queue.Queue,
           stop: threading.Event) -> None:
    """`train_one` (the path every executor takes: a stack of one, or the engine) in a thread, its
    callbacks turned into queued events."""
    from hyperlab.engine import Prune
    from hyperlab.vectorized import train_one

    pending: list[int] = []  # an epoch whose checkpoint the engine writes after on_epoch returns

    board = job.get("prune_board")  # set when the run may prune this trial

    def on_epoch(record: dict) -> Prune | None:
        events.put({"kind": "epoch", "record": record})
        pending.append(int(record["epoch"]))
        if board is None:
            return None
        why = _wait_for_answer(board, prune_slot(job["key"], job["submission"], int(record["epoch"])), stop)
        return Prune(why) if why else None

    def should_stop() -> bool:
        # The engine polls this before each epoch, after the previous epoch's checkpoint is written.
        if pending:
            pending.clear()
            events.put(_checkpoint_event(workdir))
        return stop.is_set()

    try:
        result = train_one(config, int(job["seed"]), workdir=workdir, on_epoch=on_epoch, splits=splits,
                             should_stop=should_stop, settings=settings,
                             data_fingerprint=job.get("data_fingerprint"))
        if pending:
            events.put(_checkpoint_event(workdir))
        files = {p.name: p.read_bytes() for p in sorted(workdir.iterdir())
                 if p.is_file() and not p.name.startswith(".") and not p.name.startswith("checkpoint.")}
        events.put({"kind": "files", "files": files})
        events.put({"kind": "result", "outcome": result.to_dict()})
    except BaseException as exc:  # noqa: BLE001 - re-raised by the generator, so Ray reports it
        events.put(exc)
    finally:
        events.put(_DONE)


def _checkpoint_event(workdir: Path) -> dict:
    from hyperlab.engine.checkpoint import STATE_FILE, TENSORS_FILE

    return {"kind": "checkpoint", "tensors": (workdir / TENSORS_FILE).read_bytes(),
            "state": (workdir / STATE_FILE).read_bytes()}


def _node() -> dict:
    """Which node this is: the first 8 hex digits of Ray's node id (as `ray status` prints it) and its IP."""
    import ray

    context = ray.get_runtime_context()
    return {"node": context.get_node_id()[:8], "node_ip": ray.util.get_node_ip_address()}
