"""`StackWriter`: a stack's epoch records, checkpoints and outcomes written by a background thread,
so the stack trains its next epoch while the last one is committed.

    writer = StackWriter(ctx, trials)              # trials: the stack's ClaimedTrials, started
    train_group(..., on_epoch=writer.on_epoch, on_result=writer.finish,
                checkpoint_writer=writer.checkpoint)
    writer.close()                                 # waits until everything handed over is written

The rules of the one-by-one path hold (hyperlab.runner.lifecycle): a trial's epoch is committed
before its checkpoint is written, its checkpoint before its outcome is stored, and what is written
is what the stack handed over (records are finished values, checkpoints CPU snapshots taken at the
epoch's end). The thread takes whatever has queued up and commits all its epoch records in one
transaction, then writes the checkpoints and outcomes in the order they came. A SIGKILL loses only
what was still queued: epochs whose records were not committed are trained again on resume, from
the last checkpoint written, and never stored wrong. An error in the thread (a full disk, a damaged
store, a closed output) is raised in the training thread at its next hand-over or at `close`, where
the executor handles it as if training had raised it. A claim another runner took over is noticed
at the commit: the stack's next `on_epoch` for that trial answers Prune(LOST), as the one-by-one
path does.
"""

from __future__ import annotations

import dataclasses
import queue
import threading
from pathlib import Path
from typing import Any

import torch

from hyperlab.engine.book import Prune
from hyperlab.engine.checkpoint import save_checkpoint
from hyperlab.engine.result import TrialResult
from hyperlab.runner.lifecycle import LOST, ClaimedTrial
from hyperlab.runner.task import RunContext
from hyperlab.store import Store

EPOCHS_QUEUED = 4  # how many epochs of the stack may wait to be written before the stack waits


def stack_note(trials: int, text: str) -> dict:
    """The event that says how a stack's step runs (on CUDA: captured as a graph, or why not)."""
    return {"event": "stack_note", "trials": trials, "note": text}


class StackWriter:
    """Writes what a stack of claimed trials hands over, in a thread of its own with its own store."""

    def __init__(self, ctx: RunContext, trials: list[ClaimedTrial]) -> None:
        self.ctx, self.trials = ctx, trials
        self._items: queue.Queue = queue.Queue(maxsize=EPOCHS_QUEUED * 2 * len(trials) + 4)
        self._error: BaseException | None = None
        self._lost: set[int] = set()  # trials whose claim another runner took over
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="hyperlab-stack-writer", daemon=True)
        self._thread.start()

    # --- called by the training thread ------------------------------------------------------------

    def on_epoch(self, index: int, record: dict) -> Prune | None:
        """train_group's on_epoch: queue the record; Prune(LOST) once the trial's claim is gone."""
        if index in self._lost:
            return Prune(LOST)
        self._put(("epoch", index, dict(record)))
        return None

    def checkpoint(self, workdir: Path, tensors: dict[str, torch.Tensor], document: dict) -> None:
        """train_group's checkpoint_writer: queue a checkpoint snapshot."""
        self._put(("checkpoint", workdir, tensors, document))

    def finish(self, index: int, result: TrialResult) -> None:
        """train_group's on_result: queue the trial's outcome (stored after its last checkpoint)."""
        self._put(("finish", index, result))

    def note(self, text: str) -> None:
        """train_group's on_note: announce how the stack's step runs (a `stack_note` event)."""
        self._put(("note", text))

    def close(self, raise_error: bool = True) -> None:
        """Wait until everything queued is written; raise the thread's error (unless told not to:
        the caller is already handling another one)."""
        if not self._closed:
            self._closed = True
            self._put(None, check=False)
            self._thread.join()
        if raise_error:
            self._raise()

    def _put(self, item: Any, check: bool = True) -> None:
        while True:
            if check:
                self._raise()
            if not self._thread.is_alive():
                return  # it ended on an error (raised above unless check is off): nothing more is written
            try:
                self._items.put(item, timeout=0.5)
                return
            except queue.Full:
                continue

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    # --- the writer thread ------------------------------------------------------------------------

    def _run(self) -> None:
        store = None
        try:
            store = Store.open(self.ctx.store.workspace, create=False)  # a connection of this thread
            ctx = dataclasses.replace(self.ctx, store=store)
            twins = [ClaimedTrial(t.task, ctx, stacked=t.stacked) for t in self.trials]
            while True:
                batch = [self._items.get()]
                while batch[-1] is not None:
                    try:
                        batch.append(self._items.get_nowait())
                    except queue.Empty:
                        break
                self._write(store, twins, batch)
                if batch[-1] is None:
                    return
        except BaseException as exc:  # noqa: BLE001 - handed to the training thread, which raises it
            self._error = exc
        finally:
            if store is not None:
                store.close()

    def _write(self, store: Store, twins: list[ClaimedTrial], batch: list) -> None:
        """Commit the batch's epoch records in one transaction, then its checkpoints and outcomes in
        order (each trial's records come before its checkpoints in the queue: the order holds)."""
        epochs = [(item[1], item[2]) for item in batch if item is not None and item[0] == "epoch"]
        if epochs:
            lost = store.record_epochs(self.ctx.owner, [(twins[i].task.key, record) for i, record in epochs])
            for i, record in epochs:
                if twins[i].task.key in lost:
                    twins[i].lost = True
                    self._lost.add(i)
                elif not twins[i].lost:
                    twins[i].stored_epoch(record)
        for item in batch:
            if item is None or item[0] == "epoch":
                continue
            if item[0] == "checkpoint":
                save_checkpoint(item[1], item[2], item[3])
            elif item[0] == "note":
                self.ctx.events.emit(stack_note(len(twins), item[1]))
            else:
                twins[item[1]].finish(item[2])
                self.trials[item[1]].ended = True
