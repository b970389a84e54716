"""A worker process of `--workers N` (started by runner/workers.py; not a user command).

Reads its job as JSON on stdin (workspace, trials, device, threads, vectorize, worker index, ...),
loads each trial's config from the store, trains whatever it can claim (stacking compatible trials
when `vectorize`), and writes JSON-lines events to stdout.
Exit codes: 0 done, 2 user error (message on stderr), 130 interrupted, 1 internal error.
"""

from __future__ import annotations

import json
import sys


def main() -> int:
    job = json.loads(sys.stdin.read())
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
    try:
        with graceful_interrupts(flag), Store.open(job["workspace"], create=False) as store:
            tasks = []
            for t in job["trials"]:
                row = store.trial(t["key"])
                if row is not None:
                    config = TrialConfig.from_stored(row["config"])
                    tasks.append(TrialTask(t["key"], t["variant"], int(t["seed"]), config, t.get("data")))
            ctx = RunContext(store=store, owner=Owner.current(), events=JsonlSink(sys.stdout),
                             should_stop=flag, settings=settings,
                             stale_after=job["stale_after"], heartbeat_every=job["heartbeat_every"])
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
