"""`--workers N`: N processes on this machine share a run through the store's atomic claim.

Each worker (`python -m hyperlab.runner.worker`) runs a `LocalExecutor` (or, with `vectorize`, a
`VectorizedExecutor` that starts from its own share of the groups; for a search with a pruner, with
a prune hook that asks the pruner, from the store, after every epoch) over the same trial list
and reports JSON-lines events on its stdout, which this process forwards to its own sink. Workers
run in their own session so a terminal's Ctrl-C reaches only this process, which forwards exactly one SIGINT
to each (they finish their epoch, checkpoint, and exit 130); a worker whose parent dies stops too.
"""

from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from pathlib import Path

from hyperlab.errors import UserError
from hyperlab.runner.events import OutputClosed
from hyperlab.runner.executor import Capabilities
from hyperlab.runner.task import RunContext, TrialTask


def available_cores() -> int:
    """CPU cores this process may use (affinity-aware where the platform tells)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # macOS, Windows
        return os.cpu_count() or 1


class ProcessExecutor:
    """Trains with `workers` subprocesses, each using `threads` torch threads (default cores // workers)."""

    def __init__(self, workers: int, vectorize: bool = False, prune: dict | None = None) -> None:
        if workers < 1:
            raise ValueError(f"workers must be >= 1, got {workers}")
        self.workers = workers
        self.vectorize = vectorize
        self.prune = prune  # a search's PruneRule as JSON: workers stop trials the pruner stops

    def pruning(self, rule) -> ProcessExecutor:  # rule: hyperlab.search.PruneRule
        """These workers, each asking `rule`'s pruner after every epoch of every trial it trains
        (its own `RunContext.prune`, rebuilt from the store: stacked or one by one alike)."""
        return ProcessExecutor(self.workers, vectorize=self.vectorize, prune=rule.to_json())

    def capabilities(self, ctx: RunContext | None = None) -> Capabilities:
        """Each worker builds the run's prune hook in its own process from `ctx.prune_rule`."""
        how = "stacked where compatible" if self.vectorize else "one trial at a time each"
        note = (f"{self.workers} worker processes train the searched trials ({how}), deciding to prune "
                f"from the store after every epoch")
        return Capabilities(parallelism=self.workers, can_prune=True, can_stack=self.vectorize,
                            pruning_note=note)

    def run(self, trials: Sequence[TrialTask], ctx: RunContext) -> None:
        threads = ctx.settings.threads or max(1, available_cores() // self.workers)
        settings = ctx.settings.with_overrides(threads=threads, workers=self.workers)
        job = {
            "workspace": str(ctx.store.workspace), "parent_pid": os.getpid(),
            "settings": settings.model_dump(mode="json"),
            "stale_after": ctx.stale_after, "heartbeat_every": ctx.heartbeat_every,
            "vectorize": self.vectorize, "workers": self.workers, "prune": self._prune(ctx),
            "trials": [{"key": t.key, "variant": t.variant, "seed": t.seed, "data": t.data_fingerprint}
                       for t in trials],
        }
        lines: queue.Queue = queue.Queue()
        errors: list[list[str]] = [[] for _ in range(self.workers)]
        procs = [self._start(i, json.dumps({**job, "worker": i}), lines, errors[i])
                 for i in range(self.workers)]
        open_streams, forwarded = self.workers, 0
        try:
            while open_streams:
                if ctx.should_stop() and forwarded == 0:
                    forwarded = self._signal(procs)
                try:
                    worker, line = lines.get(timeout=0.2)
                except queue.Empty:
                    continue
                if line is None:
                    open_streams -= 1
                    continue
                try:
                    event = json.loads(line)
                except json.JSONDecodeError:
                    errors[worker].append(line)
                    continue
                ctx.events.emit({**event, "worker": worker})
        except (KeyboardInterrupt, OutputClosed):  # a second Ctrl-C, or nobody reads: workers stop too
            self._signal(procs)
            for proc in procs:
                proc.wait()
            raise
        codes = [proc.wait() for proc in procs]
        self._check(codes, errors, interrupted=forwarded > 0)

    def _prune(self, ctx: RunContext) -> dict | None:
        """The prune rule the workers rebuild their hook from (JSON), if any."""
        if self.prune is not None:
            return self.prune
        return None if ctx.prune_rule is None else ctx.prune_rule.to_json()

    def _start(self, index: int, payload: str, lines: queue.Queue, errors: list[str]) -> subprocess.Popen:
        env = dict(os.environ)
        package_root = str(Path(__file__).resolve().parents[2])  # importable even from a source tree
        env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
        proc = subprocess.Popen(
            [sys.executable, "-m", "hyperlab.runner.worker"], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, text=True, env=env, start_new_session=True,
        )
        proc.stdin.write(payload)
        proc.stdin.close()

        def pump_stdout() -> None:
            for line in proc.stdout:
                lines.put((index, line))
            lines.put((index, None))

        def pump_stderr() -> None:
            for line in proc.stderr:
                errors.append(line.rstrip("\n"))

        threading.Thread(target=pump_stdout, daemon=True).start()
        threading.Thread(target=pump_stderr, daemon=True).start()
        return proc

    @staticmethod
    def _signal(procs: list[subprocess.Popen]) -> int:
        sent = 0
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
                sent += 1
        return max(sent, 1)

    @staticmethod
    def _check(codes: list[int], errors: list[list[str]], interrupted: bool = False) -> None:
        # A worker that the forwarded SIGINT reached while Python was still starting it (before
        # worker.main installs its handler) dies of the signal, -2: it had claimed nothing yet, so
        # it was interrupted, not broken (seen under load, when a worker starts late).
        stopped = (0, 130, -signal.SIGINT) if interrupted else (0, 130)
        for code, lines in zip(codes, errors, strict=True):
            if code == 2:
                raise UserError("\n".join(line.removeprefix("hyperlab: error: ") for line in lines
                                          if line.strip()) or "a worker rejected its input")
        for index, (code, lines) in enumerate(zip(codes, errors, strict=True)):
            if code not in stopped:
                tail = "\n".join(lines[-20:])
                raise RuntimeError(f"worker {index} exited with code {code}:\n{tail}")
