"""Train one claimed trial through the engine, storing each epoch as it ends and the outcome at the end."""

from __future__ import annotations

import hashlib
import platform
import shutil
import threading
import traceback
from pathlib import Path

from hyperlab.errors import UserError
from hyperlab.faults import end_run_on_environment_fault
from hyperlab.runner.events import OutputClosed, headline
from hyperlab.runner.task import RunContext, TrialTask
from hyperlab.store import LostClaimError, Owner, Store

ARTIFACT_KINDS = {"checkpoint.safetensors": "checkpoint", "checkpoint.json": "checkpoint_state",
                  "predictions.json": "predictions"}


def train_claimed(task: TrialTask, ctx: RunContext) -> str:
    """Train `task`, which `ctx.owner` has claimed; returns the status stored for it.

    A trial the engine reports `interrupted` is released (it resumes from its checkpoint later);
    an exception escaping the engine is stored as a `failed` trial and the study goes on, except a
    UserError (bad input for every trial: re-raised) and KeyboardInterrupt (second Ctrl-C).
    """
    from hyperlab.engine import train_trial

    store, owner = ctx.store, ctx.owner
    workdir = store.trial_dir(task.key)
    stored = store.epochs(task.key)
    if not stored:
        # The engine writes a checkpoint only after the store has the epoch, so a checkpoint without
        # a stored epoch is a leftover (e.g. of a --rerun): start this trial from scratch.
        shutil.rmtree(workdir, ignore_errors=True)
    where = {"key": task.key, "variant": task.variant, "seed": task.seed}
    ctx.events.emit({"event": "trial_started", **where, "epochs": task.epochs,
                     "resumed_from": stored[-1]["epoch"] if stored else 0})

    def on_epoch(record: dict) -> None:
        store.record_epoch(task.key, owner, record)  # committed before the engine checkpoints
        ctx.events.emit({"event": "epoch", **where, "epoch": int(record["epoch"]), "epochs": task.epochs,
                         "metrics": record})

    heartbeat = _Heartbeat(store.workspace, task.key, owner, ctx.heartbeat_every)
    try:
        result = train_trial(task.config, task.seed, workdir=workdir, on_epoch=on_epoch,
                             should_stop=ctx.should_stop, settings=ctx.settings,
                             data_fingerprint=task.data_fingerprint)
    except (UserError, KeyboardInterrupt, OutputClosed) as exc:  # not the trial's fault: resumable
        store.release(task.key, owner, "pending" if isinstance(exc, UserError) else "interrupted")
        raise
    except LostClaimError:
        ctx.events.emit({"event": "trial_finished", **where, "status": "lost",
                         "error": "another runner reclaimed this trial"})
        return "lost"
    except Exception as exc:  # a bug in a component: record it, keep going with the study
        end_run_on_environment_fault(exc, store, [task.key], owner)  # a full disk is not an outcome
        error = f"{type(exc).__name__}: {exc}\n{traceback.format_exc(limit=-8)}"
        return record_outcome(task, ctx, where, status="failed", error=error)
    finally:
        heartbeat.stop()
    outcome = result.to_dict()
    if outcome["status"] == "interrupted":
        store.release(task.key, owner, "interrupted")
        ctx.events.emit({"event": "trial_finished", **where, "status": "interrupted",
                         "seconds": outcome.get("seconds"), "stop_reason": outcome.get("stop_reason")})
        return "interrupted"
    return record_outcome(task, ctx, where, outcome=outcome)


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
            versions=versions(), artifacts=_artifacts(ctx.store, task.key),
        )
    except LostClaimError:
        status, error = "lost", "another runner reclaimed this trial"
    ctx.events.emit({"event": "trial_finished", **where, "status": status, "seconds": outcome.get("seconds"),
                     "stop_reason": outcome.get("stop_reason"), "error": error or outcome.get("error"),
                     "final": headline(outcome.get("final"))})
    return status


def versions() -> dict[str, str]:
    """The code that trained a trial, stored with it."""
    import torch

    from hyperlab._version import __version__
    from hyperlab.engine import ENGINE_VERSION

    return {"hyperlab": __version__, "torch": torch.__version__,
            "python": platform.python_version(), "engine": ENGINE_VERSION}


def _artifacts(store: Store, key: str) -> list[dict]:
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


class _Heartbeat:
    """Refreshes the trial's heartbeat from a thread, so a long epoch on another host's runner is
    not mistaken for a dead one (on this host, liveness is checked by pid instead)."""

    def __init__(self, workspace: Path, key: str, owner: Owner, every: float) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(workspace, key, owner, every), daemon=True)
        self._thread.start()

    def _beat(self, workspace: Path, key: str, owner: Owner, every: float) -> None:
        store = None
        try:
            while not self._stop.wait(every):
                store = store or Store.open(workspace, create=False)  # a connection of this thread
                if not store.heartbeat(key, owner):
                    return
        finally:
            if store is not None:
                store.close()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()
