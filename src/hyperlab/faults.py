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


class OutOfMemory(RunFault):
    """The machine (host memory) or the GPU ran out of memory: not a property of the trial's
    hyperparameters that a stored `failed` should keep (a rerun with more memory trains it)."""

    FIX = "lower train.batch_size or the model's size"

    def __init__(self, message: str, gpu: bool = False) -> None:
        super().__init__(message)
        self.gpu = gpu

    def training(self, variant: str, needs: int | None) -> OutOfMemory:
        """This fault said of the trial it hit: `out of memory training <variant>: needs about X GB`."""
        about = f"needs about {gigabytes(needs)}" if needs else "needs more than it had"
        where, other = (" on the GPU", " (or train on the CPU: --device cpu)") if self.gpu else ("", "")
        return OutOfMemory(f"out of memory training {variant}{where}: {about}; {self.FIX}{other}; the "
                           f"trial is left to resume", gpu=self.gpu)


def gigabytes(size: int) -> str:
    """`1.6 GB`, `0.02 GB`, `1,200 GB`: two significant digits below 10."""
    gb = size / 1e9
    return f"{gb:.2g} GB" if gb < 10 else f"{gb:,.0f} GB"


# What torch says when an allocation fails: the CPU allocator ("DefaultCPUAllocator: can't allocate
# memory: you tried to allocate ..."), CUDA ("CUDA out of memory. Tried to allocate ...", raised as
# torch.cuda.OutOfMemoryError, a RuntimeError; or "CUDA error: out of memory"), MPS ("MPS backend
# out of memory"). Read from the message: torch does not give them a type of their own on every path.
_OOM_WORDS = ("out of memory", "can't allocate memory", "cannot allocate memory")


def _out_of_memory(exc: BaseException) -> OutOfMemory | None:
    if isinstance(exc, MemoryError) or (isinstance(exc, OSError) and exc.errno == errno.ENOMEM):
        return OutOfMemory(f"out of memory; {OutOfMemory.FIX}")
    if not isinstance(exc, RuntimeError):
        return None
    text = str(exc).lower()
    if type(exc).__name__ == "OutOfMemoryError" or any(words in text for words in _OOM_WORDS):
        gpu = "cuda" in text or "gpu" in text or "mps" in text or type(exc).__name__ == "OutOfMemoryError"
        return OutOfMemory(f"out of {'GPU ' if gpu else ''}memory; {OutOfMemory.FIX}", gpu=gpu)
    return None


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
    out_of_memory = _out_of_memory(exc)
    if out_of_memory is not None:
        return out_of_memory
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
