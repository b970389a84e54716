"""One claimed trial's life in the store, whichever path trains it (the engine one by one, or a
stack): the `trial_started` event, each epoch committed before its checkpoint (then announced, then
offered to the run's prune hook), and the end: the outcome stored, or the trial released.

    trial = ClaimedTrial(task, ctx)             # ctx.owner has claimed task.key
    trial.start()
    with Heartbeat(ctx, [task.key]):
        result = train_trial(..., on_epoch=trial.on_epoch)    # or train_group(..., on_epoch=...)
    trial.finish(result)                        # stored, released (interrupted) or lost

`hyperlab.runner.trial.train_claimed` and the stacked executor (runner/stacked.py) both drive it.
"""

from __future__ import annotations

import contextlib
import hashlib
import platform
import shutil
import threading
import traceback
from collections.abc import Iterator
from types import TracebackType
from typing import Any

from hyperlab.engine.book import Prune
from hyperlab.engine.result import TrialResult
from hyperlab.errors import UserError
from hyperlab.faults import OutOfMemory, RunFault, end_run_on_environment_fault
from hyperlab.runner.events import headline
from hyperlab.runner.task import RunContext, TrialTask
from hyperlab.store import LostClaimError, Store

LOST = "another runner reclaimed this trial"
ARTIFACT_KINDS = {"checkpoint.safetensors": "checkpoint", "checkpoint.json": "checkpoint_state",
                  "predictions.json": "predictions"}


class ClaimedTrial:
    """A trial `ctx.owner` has claimed, from its start event to its stored outcome or release."""

    def __init__(self, task: TrialTask, ctx: RunContext, stacked: int | None = None,
                 where: dict | None = None) -> None:
        self.task, self.ctx, self.stacked = task, ctx, stacked  # stacked: the size of its stack
        # where: fields every event of the trial carries besides its key, variant and seed (Ray: node)
        self.where = {"key": task.key, "variant": task.variant, "seed": task.seed, **(where or {})}
        self.workdir = ctx.store.trial_dir(task.key)
        self.lost = False  # another runner took the claim over: nothing more is stored
        self.ended = False

    def start(self) -> None:
        """Announce the trial (resumed from its last stored epoch, if any)."""
        stored = self.ctx.store.epochs(self.task.key)
        if not stored:
            # The engine writes a checkpoint only after the store has the epoch, so a checkpoint
            # without a stored epoch is a leftover (e.g. of a --rerun): start this trial from scratch.
            shutil.rmtree(self.workdir, ignore_errors=True)
        event = {"event": "trial_started", **self.where, "epochs": self.task.epochs,
                 "resumed_from": stored[-1]["epoch"] if stored else 0}
        if self.stacked is not None:
            event["vectorized"] = self.stacked
        self.ctx.events.emit(event)

    def on_epoch(self, record: dict) -> Prune | None:
        """The engine's per-epoch callback: commit the epoch (before its checkpoint is written),
        announce it, and ask the run's prune hook (`ctx.prune`) whether the trial goes on. A lost
        claim stops the trial too (nothing more of it is stored)."""
        ctx = self.ctx
        try:
            ctx.store.record_epoch(self.task.key, ctx.owner, record)
        except LostClaimError:
            self.lost = True
            return Prune(LOST)
        return self.stored_epoch(record)

    def stored_epoch(self, record: dict) -> Prune | None:
        """The epoch is committed (by `on_epoch`, or with its stack's others in one transaction):
        announce it and ask the prune hook."""
        ctx = self.ctx
        ctx.events.emit({"event": "epoch", **self.where, "epoch": int(record["epoch"]),
                         "epochs": self.task.epochs, "metrics": record})
        why = ctx.prune(self.task, record) if ctx.prune is not None else None
        return Prune(why) if why else None

    def finish(self, result: TrialResult) -> str:
        """Store what the engine (or the stack) reported; returns the status stored. `interrupted`
        is released, not stored: the trial resumes from its checkpoint later."""
        self.ended = True
        if self.lost:
            return self._lost()
        outcome, ctx = result.to_dict(), self.ctx
        if outcome["status"] == "interrupted":
            ctx.store.release(self.task.key, ctx.owner, "interrupted")
            ctx.events.emit({"event": "trial_finished", **self.where, "status": "interrupted",
                             "seconds": outcome.get("seconds"), "stop_reason": outcome.get("stop_reason")})
            return "interrupted"
        return record_outcome(self.task, ctx, self.where, outcome=outcome)

    def release(self, exc: BaseException) -> None:
        """Give the trial back after `exc` ended the run (the caller re-raises it): bad input
        (a UserError) makes it `pending`; an interrupt, a closed output or an environment fault
        (a RunFault: full disk, read-only or damaged database) `interrupted`, so it resumes from
        its checkpoint and `status` says where."""
        self.ended = True
        bad_input = isinstance(exc, UserError) and not isinstance(exc, RunFault)
        with contextlib.suppress(Exception):  # the store itself may be what failed
            self.ctx.store.release(self.task.key, self.ctx.owner, "pending" if bad_input else "interrupted")

    def failed(self, exc: Exception) -> str:
        """An exception escaped training: an environment fault ends the run (the trial released as
        `interrupted`, the RunFault raised); anything else is a bug of a component, stored as the
        trial's failure while the study goes on."""
        self.ended = True
        if isinstance(exc, LostClaimError):
            return self._lost()
        end_run_on_environment_fault(exc, self.ctx.store, [self.task.key], self.ctx.owner)
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-8)}"
        return record_outcome(self.task, self.ctx, self.where, status="failed", error=error)

    def _lost(self) -> str:
        self.ctx.events.emit({"event": "trial_finished", **self.where, "status": "lost", "error": LOST})
        return "lost"


@contextlib.contextmanager
def out_of_memory_names(variant: str, needs: int | None) -> Iterator[None]:
    """An out-of-memory fault raised in the block says which variant it hit and what it needed:
    `out of memory training <variant>: needs about X GB; lower ...` (the trial is already released)."""
    try:
        yield
    except OutOfMemory as exc:
        raise exc.training(variant, needs) from exc


def record_outcome(task: TrialTask, ctx: RunContext, where: dict, outcome: dict | None = None,
                   status: str | None = None, error: str | None = None) -> str:
    """Store a claimed trial's outcome (or a failure) and announce it; every executor ends with this."""
    outcome = outcome or {}
    status = status or outcome["status"]
    try:
        ctx.store.finish_trial(
            task.key, ctx.owner, status=status, epochs=outcome.get("epochs") or [],
            final=outcome.get("final"), seconds=outcome.get("seconds"),
            error=error or outcome.get("error"), stop_reason=outcome.get("stop_reason"),
            best_epoch=outcome.get("best_epoch"), params=outcome.get("params"),
            versions=versions(), artifacts=stored_artifacts(ctx.store, task.key),
            numerics=outcome.get("numerics"),
        )
    except LostClaimError:
        status, error = "lost", LOST
    ctx.events.emit({"event": "trial_finished", **where, "status": status, "seconds": outcome.get("seconds"),
                     "stop_reason": outcome.get("stop_reason"), "error": error or outcome.get("error"),
                     "final": headline(outcome.get("final"))})
    return status


def versions() -> dict[str, str]:
    """The code that trained a trial, stored with it."""
    import torch

    from hyperlab._version import __version__
    from hyperlab.engine.version import ENGINE_VERSION

    return {"hyperlab": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "engine": ENGINE_VERSION}


def stored_artifacts(store: Store, key: str) -> list[dict]:
    """The files in the trial's folder, each with its kind, path, SHA-256 and size."""
    workdir = store.trial_dir(key)
    if not workdir.is_dir():
        return []
    out = []
    for path in sorted(workdir.iterdir()):
        if path.is_file() and not path.name.startswith("."):
            data = path.read_bytes()
            out.append({"kind": ARTIFACT_KINDS.get(path.name, path.name),
                        "path": str(path.relative_to(store.workspace)),
                        "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)})
    return out


class Heartbeat:
    """Refreshes the heartbeats of claimed trials from one thread while they train, so a long epoch
    on another host's runner is not mistaken for a dead one (on this host, liveness is checked by
    pid). A trial whose claim is gone is no longer refreshed. A store that cannot be opened (a
    read-only, full or damaged database) ends the thread quietly: the training thread's next commit
    meets the same fault and reports it in one line."""

    def __init__(self, ctx: RunContext, keys: list[str]) -> None:
        self._stop = threading.Event()
        args = (ctx.store.workspace, list(keys), ctx.owner, ctx.heartbeat_every)
        self._thread = threading.Thread(target=self._beat, args=args, daemon=True)
        self._thread.start()

    def _beat(self, workspace: Any, keys: list[str], owner: Any, every: float) -> None:
        store = None
        try:
            while keys and not self._stop.wait(every):
                store = store or Store.open(workspace, create=False)  # a connection of this thread
                keys = [key for key in keys if store.heartbeat(key, owner)]
        except Exception:  # noqa: S110 - reported by the training thread's next commit (see above)
            pass
        finally:
            if store is not None:
                with contextlib.suppress(Exception):
                    store.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def __enter__(self) -> Heartbeat:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
