"""Run a study: claim trials in the store, train them through the engine, report progress.

    summary = run_study(study, plan, workspace="hyperlab-runs", workers=2, events=RichSink())

Executors (`LocalExecutor`, `ProcessExecutor`, or any object with `run(trials, ctx)`) decide how
claimed trials are trained; the planner and the store do not depend on them.
"""

from __future__ import annotations

from hyperlab._lazy import lazy_exports

_EXPORTS = {
    "EventSink": "hyperlab.runner.events",
    "JsonlSink": "hyperlab.runner.events",
    "ListSink": "hyperlab.runner.events",
    "QuietSink": "hyperlab.runner.events",
    "Executor": "hyperlab.runner.executor",
    "LocalExecutor": "hyperlab.runner.executor",
    "RunContext": "hyperlab.runner.executor",
    "TrialTask": "hyperlab.runner.executor",
    "StopFlag": "hyperlab.runner.interrupt",
    "graceful_interrupts": "hyperlab.runner.interrupt",
    "RunSummary": "hyperlab.runner.run",
    "resolve_settings": "hyperlab.runner.run",
    "run_study": "hyperlab.runner.run",
    "VectorizedExecutor": "hyperlab.runner.stacked",
    "ProcessExecutor": "hyperlab.runner.workers",
}

__all__ = [
    "EventSink",
    "Executor",
    "JsonlSink",
    "ListSink",
    "LocalExecutor",
    "ProcessExecutor",
    "QuietSink",
    "RunContext",
    "RunSummary",
    "StopFlag",
    "TrialTask",
    "graceful_interrupts",
    "run_study",
    "VectorizedExecutor",
    "resolve_settings",
]


# Exports load on first use (PEP 562): commands that only read the store import this package's
# pure modules (configs, versions) without pulling in torch through the others.
__getattr__ = lazy_exports(__name__, _EXPORTS)
