"""`--executor ray`: trials train as Ray tasks on any node of a cluster; this process owns the store.

The driver (the `hyperlab run` process) claims each trial in its SQLite workspace and submits one Ray
streaming-generator task per trial (runner/ray_node.py). The task trains with the same engine call as
the local runner in a node-local folder and streams back each epoch record and each checkpoint (its
bytes, with their SHA-256); the driver commits them exactly as the local runner does: the epoch in
the store, then the verified checkpoint files, atomically, in the trial folder; at the end the
outcome (`record_outcome`). No node needs the workspace or a shared file system; each dataset is put
once into Ray's object store, so a node fetches it once, never once per trial.

Faults: a node lost mid-trial (a Ray system error: node died, worker crashed, object lost) -> the
trial is submitted again with its last committed checkpoint, and the engine resumes it bit for bit;
a task that raises -> the trial is `failed` with the last line of the remote traceback and the
study goes on; Ctrl-C -> the tasks are cancelled, everything already received is committed, the
trials in flight become `interrupted` (resumable). The driver killed -> its trials are `running`
under a dead process, which the next `hyperlab run` claims and resumes from their checkpoints.
"""

from __future__ import annotations

import contextlib
import json
import os
import queue
import shutil
import signal
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from hyperlab.errors import UserError
from hyperlab.runner.executor import Capabilities
from hyperlab.runner.task import RunContext, TrialTask
from hyperlab.runner.trial import record_outcome
from hyperlab.store import LostClaimError

INSTALL_HINT = "--executor ray needs Ray: pip install hyperlab[ray]"
MAX_SUBMISSIONS = 4  # submissions of one trial (its node lost 3 times) before it is stored as failed
POLL_SECONDS = 0.2  # how often the driver looks at Ctrl-C and heartbeats while waiting for events
# Flow control: a task pauses once it is this many events (an epoch and its checkpoint are two)
# ahead of the driver, and the driver holds at most QUEUED events not yet committed, so a slow
# driver bounds the checkpoints in flight instead of buffering every one in memory.
BACKPRESSURE_EVENTS = 8
QUEUED = 16


def import_ray() -> Any:
    """The `ray` module, or a UserError saying how to install it (the extra is optional)."""
    try:
        import ray
    except ImportError:
        raise UserError(INSTALL_HINT) from None
    if not hasattr(ray, "remote"):  # a folder named `ray` on the path (a namespace package), not Ray
        raise UserError(INSTALL_HINT)
    return ray


@dataclass
class _Flight:
    """One trial submitted to the cluster."""

    task: TrialTask
    slot: int  # which progress line shows it (reported as `worker`)
    submission: int = 0  # 1 for the first submission, +1 for each resubmission after a lost node
    generator: Any = None  # the Ray ObjectRefGenerator of the current submission
    node: str | None = None
    where: dict = field(default_factory=dict)


class RayExecutor:
    """Trains each claimed trial as a Ray task with `cpus_per_trial` CPUs and `gpus_per_trial` GPUs
    (default: 1 with device "cuda", else 0), on the cluster at `address` (default: $RAY_ADDRESS,
    else a Ray instance started on this machine)."""

    def __init__(self, address: str | None = None, cpus_per_trial: float = 1,
                 gpus_per_trial: float | None = None) -> None:
        if cpus_per_trial <= 0:
            raise UserError(f"--cpus-per-trial: must be > 0, got {cpus_per_trial}")
        if gpus_per_trial is not None and gpus_per_trial < 0:
            raise UserError(f"--gpus-per-trial: must be >= 0, got {gpus_per_trial}")
        self.ray = import_ray()
        self.address = address
        self.cpus_per_trial = cpus_per_trial
        self.gpus_per_trial = gpus_per_trial
        self._data: dict[str, Any] = {}  # data config (JSON) -> object ref of its splits, put once
        self._remote: Any = None

    # --- the cluster ------------------------------------------------------------------------------

    def _connect(self, ctx: RunContext) -> None:
        ray = self.ray
        if not ray.is_initialized():
            # "local": a new instance on this machine; ray.init(None) would join any cluster it finds.
            address = self.address or os.environ.get("RAY_ADDRESS") or "local"
            sigterm = signal.getsignal(signal.SIGTERM)  # ray.init replaces it with an exit
            try:  # log_to_driver=False: a worker's prints must not mix into `--jsonl` on stdout
                ray.init(address=address, log_to_driver=False, logging_level="WARNING",
                         include_dashboard=False)
            except (ConnectionError, ValueError, RuntimeError) as exc:
                raise UserError(f"--ray-address {address}: cannot connect to Ray ({exc})") from None
            finally:
                if threading.current_thread() is threading.main_thread():
                    signal.signal(signal.SIGTERM, sigterm)  # SIGTERM stops after the epoch, as locally
        if self._remote is None:
            from hyperlab.runner.ray_node import train_on_node

            gpus = self.gpus_per_trial
            if gpus is None:
                gpus = 1 if ctx.settings.device == "cuda" else 0
            # max_retries=0: a lost node is retried here, from the checkpoint the driver holds.
            self._remote = ray.remote(train_on_node).options(
                num_cpus=self.cpus_per_trial, num_gpus=gpus, max_retries=0, num_returns="streaming",
                _generator_backpressure_num_objects=BACKPRESSURE_EVENTS)
            self._gpus = gpus

    def _capacity(self) -> int:
        """How many trials the cluster can train at once now (nodes come and go)."""
        resources = self.ray.cluster_resources()
        fits = [resources.get("CPU", 0) / self.cpus_per_trial]
        if self._gpus:
            fits.append(resources.get("GPU", 0) / self._gpus)
        return max(1, int(min(fits)))

    def _data_ref(self, task: TrialTask, ctx: RunContext) -> Any:
        key = task.config.data.model_dump_json()
        if key not in self._data:
            from hyperlab.data import make_splits
            from hyperlab.runner.ray_node import splits_to_data

            splits = make_splits(task.config.data, "cpu", root=ctx.settings.data_root)
            self._data[key] = self.ray.put(splits_to_data(splits))
        return self._data[key]

    # --- the executor -----------------------------------------------------------------------------

    def capabilities(self, ctx: RunContext | None = None) -> Capabilities:
        """Its trials train on the cluster's nodes, as many at once as the cluster has room for."""
        return Capabilities(parallelism=None if ctx is None else self.parallelism(ctx), devices="cluster")

    def parallelism(self, ctx: RunContext) -> int:
        """How many trials to give at once (a search proposes this many configurations at a time)."""
        self._connect(ctx)
        return self._capacity()

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        self._connect(ctx)
        todo = list(trials)
        flights: dict[str, _Flight] = {}
        events: queue.Queue = queue.Queue(maxsize=QUEUED)
        last_beat = time.monotonic()
        try:
            while todo or flights:
                if ctx.should_stop():
                    self._stop(flights, events, ctx)
                    return
                while todo and len(flights) < self._capacity():
                    task = todo.pop(0)
                    if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
                        used = {f.slot for f in flights.values()}
                        flight = _Flight(task, slot=min(set(range(len(flights) + 1)) - used))
                        flights[task.key] = flight
                        self._submit(flight, events, ctx)
                try:
                    item = events.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    item = None
                if item is not None:
                    self._handle(item, flights, events, ctx)
                if time.monotonic() - last_beat > ctx.heartbeat_every:  # another host's runner may watch
                    last_beat = time.monotonic()
                    for key in flights:
                        ctx.store.heartbeat(key, ctx.owner)
        except BaseException:  # a second Ctrl-C, a vanished reader, a bug: no task outlives the run
            self._cancel(flights)
            for key in flights:
                ctx.store.release(key, ctx.owner, "interrupted")
            raise

    def _submit(self, flight: _Flight, events: queue.Queue, ctx: RunContext) -> None:
        from hyperlab.engine.checkpoint import checkpoint_files

        task, store = flight.task, ctx.store
        workdir = store.trial_dir(task.key)
        stored = store.epochs(task.key)
        if not stored:  # a checkpoint without a stored epoch is a leftover (train_claimed does the same)
            shutil.rmtree(workdir, ignore_errors=True)
        checkpoint = checkpoint_files(workdir) if stored else None
        flight.submission += 1
        flight.node = None
        flight.where = {"key": task.key, "variant": task.variant, "seed": task.seed, "worker": flight.slot}
        job = {"config": task.config.model_dump(mode="json"), "seed": task.seed,
               "settings": ctx.settings.model_dump(mode="json"), "data_fingerprint": task.data_fingerprint,
               "threads": ctx.settings.threads or max(1, int(self.cpus_per_trial)),
               "checkpoint": checkpoint}
        flight.generator = self._remote.remote(job, self._data_ref(task, ctx))
        flight.where["resumed_from"] = stored[-1]["epoch"] if stored else 0
        flight.where["checkpoint"] = json.loads(checkpoint[1])["epoch"] if checkpoint else 0
        threading.Thread(target=self._pump, args=(task.key, flight.submission, flight.generator, events),
                         daemon=True).start()

    def _pump(self, key: str, submission: int, generator: Any, events: queue.Queue) -> None:
        """Moves one task's stream into the driver's queue (the store is written by the driver only)."""
        try:
            for ref in generator:
                events.put((key, submission, self.ray.get(ref)))
            events.put((key, submission, {"kind": "end"}))
        except Exception as exc:  # noqa: BLE001 - handed to the driver, which decides what it means
            events.put((key, submission, {"kind": "error", "error": exc}))

    def _handle(self, item: tuple, flights: dict[str, _Flight], events: queue.Queue, ctx: RunContext) -> None:
        key, submission, event = item
        flight = flights.get(key)
        if flight is None or submission != flight.submission:
            return  # from a submission that was cancelled or replaced
        task, store, where = flight.task, ctx.store, flight.where
        kind = event["kind"]
        try:
            if kind == "started":
                flight.node = event["node"]
                store.record_placement(key, ctx.owner, str(event["node"]))  # `status` says where
                ctx.events.emit({"event": "trial_started", **where, "epochs": task.epochs,
                                 "node": event["node"], "node_ip": event.get("node_ip"),
                                 "submission": submission})
            elif kind == "epoch":
                record = event["record"]
                store.record_epoch(key, ctx.owner, record)  # committed before its checkpoint arrives
                ctx.events.emit({"event": "epoch", **_progress(where), "epoch": int(record["epoch"]),
                                 "epochs": task.epochs, "metrics": record, "node": flight.node})
            elif kind == "checkpoint":
                from hyperlab.engine.checkpoint import CheckpointError, install_checkpoint

                try:
                    install_checkpoint(store.trial_dir(key), event["tensors"], event["state"])
                except CheckpointError as exc:  # damaged on the way: as a lost node, from the last good one
                    self._cancel({key: flight})
                    self._on_error(flight, exc, flights, events, ctx)
            elif kind == "files":
                from hyperlab.engine.checkpoint import write_file_atomic

                for name, data in event["files"].items():
                    write_file_atomic(store.trial_dir(key) / name, data)
            elif kind == "result":
                del flights[key]
                self._finish(flight, event["outcome"], ctx)
            elif kind == "end":  # a stream that ended without a result: the task's own bug
                del flights[key]
                record_outcome(task, ctx, _progress(where), status="failed",
                               error="the Ray task ended without a result")
            elif kind == "error":
                if ctx.should_stop():  # Ctrl-C reached the workers too: the trial is resumable, not failed
                    return
                self._on_error(flight, event["error"], flights, events, ctx)
        except LostClaimError:  # another runner took the trial over (it judged this driver dead)
            flights.pop(key, None)
            self._cancel({key: flight})
            ctx.events.emit({"event": "trial_finished", **_progress(where), "status": "lost",
                             "error": "another runner reclaimed this trial"})

    def _finish(self, flight: _Flight, outcome: dict, ctx: RunContext) -> None:
        where = _progress(flight.where)
        if outcome["status"] == "interrupted":
            ctx.store.release(flight.task.key, ctx.owner, "interrupted")
            ctx.events.emit({"event": "trial_finished", **where, "status": "interrupted",
                             "seconds": outcome.get("seconds"), "stop_reason": outcome.get("stop_reason")})
            return
        record_outcome(flight.task, ctx, where, outcome=outcome)

    def _on_error(self, flight: _Flight, error: BaseException, flights: dict[str, _Flight],
                  events: queue.Queue, ctx: RunContext) -> None:
        key = flight.task.key
        exceptions = self.ray.exceptions
        if isinstance(error, exceptions.RayTaskError):  # the task raised: the trial failed, not the node
            del flights[key]
            cause = getattr(error, "cause", None)
            if isinstance(cause, UserError):  # bad input for every trial (as the local runner)
                ctx.store.release(key, ctx.owner, "pending")
                raise UserError(str(cause)) from None
            record_outcome(flight.task, ctx, _progress(flight.where), status="failed",
                           error=last_line(str(error)))
            return
        if flight.submission >= MAX_SUBMISSIONS:
            del flights[key]
            record_outcome(flight.task, ctx, _progress(flight.where), status="failed",
                           error=f"lost its Ray node {flight.submission} times: {last_line(str(error))}")
            return
        ctx.events.emit({"event": "trial_requeued", **_progress(flight.where), "node": flight.node,
                         "reason": last_line(str(error))})
        self._submit(flight, events, ctx)  # from the last checkpoint the driver committed

    def _stop(self, flights: dict[str, _Flight], events: queue.Queue, ctx: RunContext) -> None:
        """Ctrl-C: cancel every task, commit what already arrived, leave the rest resumable."""
        self._cancel(flights)
        while True:
            try:
                item = events.get_nowait()
            except queue.Empty:
                break
            if item[2]["kind"] in ("epoch", "checkpoint", "files", "result"):
                self._handle(item, flights, events, ctx)
        for key, flight in list(flights.items()):
            ctx.store.release(key, ctx.owner, "interrupted")
            ctx.events.emit({"event": "trial_finished", **_progress(flight.where), "status": "interrupted",
                             "stop_reason": "interrupted: the Ray task was cancelled"})
        flights.clear()

    def _cancel(self, flights: dict[str, _Flight]) -> None:
        for flight in flights.values():
            if flight.generator is not None:
                with contextlib.suppress(Exception):  # already finished, or its node is gone
                    self.ray.cancel(flight.generator, force=True)


def _progress(where: dict) -> dict:
    """The fields every event of a trial carries (without the submission's bookkeeping)."""
    return {k: where[k] for k in ("key", "variant", "seed", "worker")}


def last_line(text: str) -> str:
    """The last non-empty line of a (remote) traceback: the exception and its message."""
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[-1] if lines else text
