"""Faults are not results: telling an environment fault from a property of a trial.

A trial's outcome (completed, early_stopped, diverged, pruned, failed) is stored only for something
about the trial itself: its config, its data, its numbers. A full disk, a read-only folder, a damaged
database, a closed pipe or a vanished device says nothing about the hyperparameters; such a fault
ends the run, leaves the trial resumable, and is reported in one line naming the cause and the fix.

    fault = environment_fault(exc)     # a RunFault (or None for anything else)
    if fault is not None:
        ...release the trial...
        raise fault from exc

Every layer that catches `Exception` to record a failed trial asks this first.
"""

from __future__ import annotations

import contextlib
import errno
import sqlite3
from pathlib import Path

from hyperlab.errors import UserError

# errno -> (what happened, what fixes it)
_OS_FAULTS: dict[int, tuple[str, str]] = {
    errno.ENOSPC: ("no space left on the device", "free some space, then run the same command to resume"),
    errno.EDQUOT: ("disk quota exceeded", "free some space, then run the same command to resume"),
    errno.EFBIG: ("file too large for this file system or limit",
                  "raise the file-size limit or use another --workspace, then resume"),
    errno.EROFS: ("read-only file system",
                  "use a writable --workspace (read-only commands work as they are)"),
    errno.EACCES: ("permission denied", "make the workspace writable or use another --workspace"),
    errno.EPERM: ("operation not permitted", "make the workspace writable or use another --workspace"),
    errno.EIO: ("input/output error from the device", "check the disk, then run `hyperlab doctor`"),
    errno.ENOMEM: ("out of memory", "close other programs or lower data.subset / train.batch_size"),
}

BROKEN_PIPE_EXIT = 141  # 128 + SIGPIPE, what a shell reports for a writer whose reader went away


class RunFault(UserError):
    """An environment fault that ended the run; the trials it touched stay resumable.

    A UserError so every layer that passes bad input through (workers, executors, the CLI) passes
    this through too: one line, no traceback. `exit_code` is 2 (the user can fix it) unless said.
    """

    def __init__(self, message: str, exit_code: int = 2) -> None:
        super().__init__(message)
        self.exit_code = exit_code


def environment_fault(exc: BaseException) -> RunFault | None:
    """The RunFault that `exc` (or an exception it was raised from or during) stands for, or None
    when it is not an environment fault (then it is a property of the trial, or a bug)."""
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        fault = _classify(current)
        if fault is not None:
            return fault
        current = current.__cause__ or current.__context__
    return None


def is_environment_fault(exc: BaseException) -> bool:
    return environment_fault(exc) is not None


def _classify(exc: BaseException) -> RunFault | None:
    if isinstance(exc, RunFault):
        return exc
    if isinstance(exc, BrokenPipeError):
        return RunFault("the output pipe was closed (its reader exited); the trials are left resumable",
                        exit_code=BROKEN_PIPE_EXIT)
    if isinstance(exc, MemoryError):
        what, fix = _OS_FAULTS[errno.ENOMEM]
        return RunFault(f"{what}; {fix}")
    if isinstance(exc, OSError) and exc.errno in _OS_FAULTS:
        what, fix = _OS_FAULTS[exc.errno]
        where = f"{exc.filename}: " if exc.filename else ""
        return RunFault(f"{where}{what}; {fix}")
    if isinstance(exc, sqlite3.Error):
        return storage_fault(exc)
    return None


def storage_fault(exc: sqlite3.Error, db_path: object = None) -> RunFault:
    """One line for a database error: what SQLite said, the file, and what to do."""
    message = str(exc) or type(exc).__name__
    where = f"{db_path}: " if db_path else ""
    low = message.lower()
    if "readonly" in low or "read-only" in low:
        return RunFault(f"{where}the database is read-only ({message}); use a writable --workspace")
    if "disk is full" in low:
        return RunFault(f"{where}the database could not be written ({message}); free some space, then "
                        "run the same command to resume")
    if "locked" in low or "busy" in low:
        return RunFault(f"{where}the database stayed locked by another process ({message}); retry when it "
                        "is done")
    doctor = "hyperlab doctor" + (f" --workspace {Path(str(db_path)).parent}" if db_path else "")
    return RunFault(f"{where}the database is damaged or unreadable ({message}); run `{doctor}` "
                    "to check it and see what can be recovered")


def end_run_on_environment_fault(exc: BaseException, store: object, keys: list[str], owner: object) -> None:
    """If `exc` is an environment fault: release the claimed trials `keys` (best effort: the store
    may be what failed; a dead owner's claim is taken over later anyway) and raise its RunFault.
    Returns (doing nothing) for anything else, which the caller then records as the trial's own."""
    fault = environment_fault(exc)
    if fault is None:
        return
    for key in keys:  # (a worker whose parent is gone never gets here: it exits at once)
        with contextlib.suppress(Exception):  # the store itself may be the fault
            store.release(key, owner, "interrupted")  # type: ignore[attr-defined]
    raise fault from exc
