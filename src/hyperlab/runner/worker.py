"""A worker process of `--workers N` (started by runner/workers.py; not a user command).

Reads its job as JSON on stdin (workspace, trials, device, threads, vectorize, worker index, ...),
loads each trial's config from the store, trains whatever it can claim (stacking compatible trials
when `vectorize`; asking a search's pruner after every epoch when `prune`), and writes JSON-lines
events to stdout.
Exit codes: 0 done, 2 user error (message on stderr), 130 interrupted, 1 internal error.

A worker dies with its parent and never writes after the parent is gone: on Linux the kernel kills
it when the parent dies (PR_SET_PDEATHSIG); everywhere, a closed stdout (the parent's end of the
pipe) makes it exit at once, before anything else is written, and the store then sees a dead owner
whose trials the next run resumes. A SIGINT that arrives while it is still importing is remembered,
not raised (the parent forwards Ctrl-C: the worker then exits 130 without a traceback).
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sys

PR_SET_PDEATHSIG = 1  # linux/prctl.h
_early_stop: list[int] = []  # signals received before the stop flag exists


def _remember(signum: int, _frame: object) -> None:
    _early_stop.append(signum)


def die_with_parent(parent_pid: int) -> None:
    """Ask the kernel to SIGKILL this process when its parent dies (Linux); exit now if it already has."""
    if sys.platform.startswith("linux"):
        import ctypes

        with contextlib.suppress(OSError, AttributeError):  # no prctl: the pipe watch still applies
            ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent_pid:  # the parent died before the request was in place
        os._exit(130)


class ParentPipe:
    """Writes events to the parent; a closed pipe means the parent is gone: exit without a write."""

    def __init__(self, sink: object) -> None:
        self._sink = sink

    def emit(self, event: dict) -> None:
        try:
            self._sink.emit(event)  # type: ignore[attr-defined]
        except (BrokenPipeError, ValueError):  # ValueError: the stream was closed
            os._exit(130)

    def close(self) -> None:
        pass


def main() -> int:
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, _remember)
    job = json.loads(sys.stdin.read())
    die_with_parent(int(job["parent_pid"]))
    from hyperlab.engine import RunSettings, TrialConfig
    from hyperlab.engine.determinism import set_threads
    from hyperlab.errors import UserError
    from hyperlab.runner.events import JsonlSink
    from hyperlab.runner.executor import LocalExecutor, RunContext, TrialTask
    from hyperlab.runner.interrupt import StopFlag, graceful_interrupts
    from hyperlab.store import Owner, Store

    settings = RunSettings.model_validate(job["settings"])
    set_threads(settings.threads)  # once, for the life of this process
    flag = StopFlag(parent_pid=job["parent_pid"])
    if _early_stop:
        flag.set()
    try:
        with graceful_interrupts(flag), Store.open(job["workspace"], create=False) as store:
            tasks = []
            for t in job["trials"]:
                row = store.trial(t["key"])
                if row is not None:
                    config = TrialConfig.from_stored(row["config"])
                    tasks.append(TrialTask(t["key"], t["variant"], int(t["seed"]), config, t.get("data"),
                                           t.get("memory")))
            ctx = RunContext(store=store, owner=Owner.current(), events=ParentPipe(JsonlSink(sys.stdout)),
                             should_stop=flag, settings=settings,
                             stale_after=job["stale_after"], heartbeat_every=job["heartbeat_every"])
            if job.get("prune"):  # a search with a pruner: decided from the store after each epoch
                from hyperlab.search import PruneRule

                rule = PruneRule.from_json(job["prune"])
                ctx.prune = lambda task, record: rule.reason(store, task.key, record)
            if job.get("vectorize"):
                from hyperlab.runner.stacked import VectorizedExecutor

                executor = VectorizedExecutor(worker=job.get("worker", 0), workers=job.get("workers", 1))
            else:
                executor = LocalExecutor()
            executor.run(tasks, ctx)
    except UserError as exc:
        for line in str(exc).splitlines():
            print(f"hyperlab: error: {line}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130
    return 130 if flag.requested else 0


if __name__ == "__main__":
    sys.exit(main())
