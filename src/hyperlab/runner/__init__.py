"""Run a study: claim trials in the store, train them through the engine, report progress.

    summary = run_study(study, plan, workspace="hyperlab-runs", workers=2, events=RichSink())

Executors (`LocalExecutor`, `ProcessExecutor`, or any object with `run(trials, ctx)`) decide how
claimed trials are trained; the planner and the store do not depend on them.
"""

from __future__ import annotations

from hyperlab.runner.events import EventSink, JsonlSink, ListSink, QuietSink
from hyperlab.runner.executor import Executor, LocalExecutor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag, graceful_interrupts
from hyperlab.runner.run import RunSummary, resolve_settings, run_study
from hyperlab.runner.stacked import VectorizedExecutor
from hyperlab.runner.workers import ProcessExecutor

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
