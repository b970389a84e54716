"""Run a study: register its plan, train what is missing (sharing the work with any other runner on
the workspace), wait for trials other processes are training, then write the report."""

from __future__ import annotations

import os
import shutil
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hyperlab.engine.settings import RunSettings
from hyperlab.errors import UserError
from hyperlab.runner import register
from hyperlab.runner.events import EventSink, OutputClosed, QuietSink, guard_output
from hyperlab.runner.executor import Executor, LocalExecutor, RunContext, TrialTask
from hyperlab.runner.interrupt import StopFlag, graceful_interrupts
from hyperlab.runner.stacked import VectorizedExecutor
from hyperlab.runner.workers import ProcessExecutor
from hyperlab.store import CLAIMABLE_STATUSES, DEFAULT_STALE_AFTER, FINISHED_STATUSES, Owner, Store

ReportWriter = Callable[[Store, str], "Path | None"]
"""Writes a study's report from the store and returns where it is (hyperlab.api composes one)."""

MAX_ROUNDS_WITHOUT_PROGRESS = 5
"""Rounds in which claimable trials stay claimable after an executor ran before we give up (a bug)."""


@dataclass
class RunSummary:
    """What a run did. `exit_code` follows the CLI contract (0 done, 1 internal error, 130 interrupted)."""

    study: str
    workspace: Path
    planned: int  # (variant, seed) pairs within budget
    unique: int  # distinct trials among them (a level equal to the baseline shares its trials)
    reused: int  # finished before this run started
    over_budget: list[str]  # variants not trained
    trained: Counter = field(default_factory=Counter)  # statuses of the trials this process trained
    statuses: dict[str, int] = field(default_factory=dict)  # every unique trial's status at the end
    interrupted: bool = False
    output_closed: bool = False  # the reader of the events went away: the run stopped early
    report: Path | None = None
    report_error: str | None = None
    seconds: float = 0.0
    events: list[dict] = field(default_factory=list)  # filled by the Python API's progress="events"

    @property
    def exit_code(self) -> int:
        if self.output_closed:
            return 141  # as a shell reports a process ended by SIGPIPE
        if self.interrupted:
            return 130
        return 1 if self.report_error else 0


class _Tally:
    """Counts finished trials on their way to the real sink."""

    def __init__(self, sink: EventSink, counter: Counter) -> None:
        self.sink, self.counter = sink, counter

    def emit(self, event: dict) -> None:
        if event.get("event") == "trial_finished":
            self.counter[event["status"]] += 1
        guard_output(self.sink.emit, event)  # a vanished reader: OutputClosed, never a failed trial

    def close(self) -> None:
        self.sink.close()


def run_study(
    study: Any,
    plan: Any,
    *,
    workspace: str | os.PathLike | None = None,
    settings: RunSettings | None = None,
    workers: int | None = None,
    rerun: bool = False,
    retry_failed: bool = False,
    device: str | None = None,
    threads: int | None = None,
    events: EventSink | None = None,
    report: bool = True,
    write_report: ReportWriter | None = None,
    executor: Executor | None = None,
    vectorize: bool | None = None,
    stale_after: float = DEFAULT_STALE_AFTER,
    poll_every: float = 1.0,
    settle: Any = None,
) -> RunSummary:
    """Train `plan`'s missing trials into `workspace` and return what happened.

    `settings`: where and how fast trials run (default: the study file's run defaults, see
    `Study.run_defaults`); `workers`, `device`, `threads` and `vectorize` override single fields.
    `rerun` retrains every trial of the plan; `retry_failed` retrains failed and diverged ones.
    `executor` defaults to the vectorized executor (compatible trials of one seed trained as one
    stacked model, the rest one at a time) unless the settings say `local` (one trial at a time);
    with `workers` > 1, that many subprocesses each run it over the shared trial list.
    A first SIGINT/SIGTERM stops after the current epoch (stored and checkpointed).
    `write_report(store, study_name)`: called when training is done (and `report`), returns where
    the report is. The runner knows nothing about analysis or reports: the API composes them.
    `settle`: the rule of `seeds = { min, max, target }` (hyperlab.analysis.settle.next_seeds; see
    hyperlab.runner.settle), passed in by the API like `write_report`.
    """
    started = time.monotonic()
    settings = resolve_settings(study, settings, workers=workers, device=device, threads=threads,
                                vectorize=vectorize)
    if settings.executor != "ray":  # on Ray, trials run on the cluster's nodes, not on this machine
        check_device(settings.device)  # before anything is claimed or stored: the machine, not a trial
    workers = settings.workers
    sink = events or QuietSink()
    with Store.open(workspace) as store:
        search = None  # a proposer of trials beyond the plan: SearchRun or SeedsUntilSettled (plan(), run())
        if getattr(study, "design", None) == "search":  # configurations come from a sampler, not the plan
            from hyperlab.runner.search import SearchRun

            search = SearchRun(study, store)
            plan = search.plan()
        elif getattr(study, "seed_rule", None) is not None:  # seeds added until each comparison settles
            from hyperlab.runner.settle import SeedsUntilSettled

            search = SeedsUntilSettled(study, plan, store, settle)
            plan = search.plan()
        store.register_study(register.study_row(study, plan), register.variant_rows(plan),
                             register.trial_rows(plan))
        tasks = register.tasks(plan)
        owner = Owner.current()
        _release_own(store, study.name, owner)  # left running by this process (a notebook's broken-off run)
        _reset_requested(store, tasks, rerun, retry_failed, stale_after)
        statuses = store.trial_statuses(t.key for t in tasks)
        summary = RunSummary(
            study=study.name, workspace=store.workspace,
            planned=sum(1 for t in plan.trials if t.budget_ok), unique=len(tasks),
            reused=sum(1 for t in tasks if statuses.get(t.key) in FINISHED_STATUSES),
            over_budget=[v.variant for v in register.variant_rows(plan) if not v.budget_ok],
        )
        tally = _Tally(sink, summary.trained)
        tally.emit({"event": "run_started", "study": study.name, "workspace": str(store.workspace),
                    "planned": summary.planned, "to_train": summary.unique - summary.reused,
                    "reused": summary.reused, "over_budget": len(summary.over_budget), "workers": workers})
        executor = executor or _default_executor(settings)
        flag = StopFlag()
        ctx = RunContext(store=store, owner=owner, events=tally, should_stop=flag,
                         settings=settings, stale_after=stale_after)
        try:
            with graceful_interrupts(flag), _torch_threads(settings.threads if workers == 1 else None):
                if search is None:
                    _train_until_done(store, tasks, executor, ctx, flag, poll_every)
                else:
                    search.run(executor, ctx, flag, poll_every, _train_until_done)
                    tasks = register.tasks(search.plan())
        except KeyboardInterrupt:
            summary.interrupted = True
        except OutputClosed:  # nobody reads the events: stop, leaving the trials in flight resumable
            summary.output_closed = summary.interrupted = True
            _release_own(store, study.name, owner)
            tally = _Tally(QuietSink(), summary.trained)
        summary.interrupted = summary.interrupted or flag.requested
        store.verify_durable([t.key for t in tasks])  # never report success after a lost commit
        statuses = store.trial_statuses(t.key for t in tasks)
        summary.statuses = dict(Counter(statuses.values()))
        if report and write_report is not None and not summary.interrupted:
            tally.emit({"event": "report_started", "study": study.name})
            try:
                summary.report = write_report(store, study.name)
            except Exception as exc:  # the results are stored; `hyperlab report` can retry
                summary.report_error = f"{type(exc).__name__}: {exc}"
        summary.seconds = time.monotonic() - started
        tally.emit({"event": "run_finished", "study": study.name, "statuses": summary.statuses,
                    "trained": dict(summary.trained), "interrupted": summary.interrupted,
                    "report": None if summary.report is None else str(summary.report),
                    "report_error": summary.report_error, "seconds": summary.seconds})
        tally.close()
    return summary


def _release_own(store: Store, study_name: str, owner: Owner) -> None:
    """Every trial of the study this process still holds as running becomes `interrupted`
    (resumable from its checkpoint)."""
    for row in store.study_trials(study_name):
        if row["status"] == "running" and row["owner"] == str(owner):
            store.release(row["key"], owner, "interrupted")


def resolve_settings(study: Any, settings: RunSettings | None, *, workers: int | None = None,
                     device: str | None = None, threads: int | None = None,
                     vectorize: bool | None = None) -> RunSettings:
    """The run's settings: `settings` (default: the study file's run defaults) with the overrides."""
    if settings is None:
        defaults = getattr(study, "run_defaults", None)
        settings = defaults() if callable(defaults) else RunSettings()
    executor = None if vectorize is None else ("vectorized" if vectorize else "local")
    return settings.with_overrides(workers=workers, device=device, threads=threads, executor=executor)


def check_device(device: str) -> None:
    """UserError (exit 2) when the device cannot be used on this machine."""
    from hyperlab.engine.determinism import resolve_device

    try:
        resolve_device(device)
    except RuntimeError as exc:
        raise UserError(f"--device {device}: {exc}; use --device cpu or auto") from None


def _default_executor(settings: RunSettings) -> Executor:
    if settings.executor == "ray":  # imported here: `ray` is an optional extra, slow to import
        from hyperlab.runner.ray_executor import RayExecutor

        return RayExecutor(**settings.executor_options)
    if settings.workers > 1:
        return ProcessExecutor(settings.workers, vectorize=settings.executor == "vectorized")
    if settings.executor == "vectorized":
        return VectorizedExecutor(**settings.executor_options)
    return LocalExecutor()


def _train_until_done(store: Store, tasks: list[TrialTask], executor: Executor, ctx: RunContext,
                      flag: StopFlag, poll_every: float) -> None:
    stuck_rounds, waiting_for = 0, -1
    while not flag():
        todo, busy = _split(store, tasks, ctx.stale_after)
        if todo:
            executor.run(todo, ctx)
            still, busy = _split(store, tasks, ctx.stale_after)
            stuck_rounds = stuck_rounds + 1 if {t.key for t in still} >= {t.key for t in todo} else 0
            if stuck_rounds >= MAX_ROUNDS_WITHOUT_PROGRESS and not flag():
                raise RuntimeError(f"{len(still)} trials stay claimable after {stuck_rounds} rounds")
            continue
        if not busy:
            return
        if len(busy) != waiting_for:
            waiting_for = len(busy)
            ctx.events.emit({"event": "waiting", "trials": waiting_for})
        flag.wait(poll_every)


def _split(
    store: Store, tasks: list[TrialTask], stale_after: float
) -> tuple[list[TrialTask], list[TrialTask]]:
    """(trials this process may claim now, trials other live processes are training)."""
    rows = {r["key"]: r for r in (store.trial(t.key) for t in tasks) if r is not None}
    todo, busy = [], []
    for task in tasks:
        row = rows[task.key]
        if row["status"] in CLAIMABLE_STATUSES or store.is_dead(row, stale_after):
            todo.append(task)
        elif row["status"] == "running":
            busy.append(task)
    return todo, busy


def _reset_requested(store: Store, tasks: list[TrialTask], rerun: bool, retry_failed: bool,
                     stale_after: float) -> None:
    """Forget the trials to retrain (never one another live process is training)."""
    if not (rerun or retry_failed):
        return
    keys = []
    for task in tasks:
        row = store.trial(task.key)
        live = row["status"] == "running" and not store.is_dead(row, stale_after)
        if not live and (rerun or row["status"] in ("failed", "diverged")):
            keys.append(task.key)
    store.reset_trials(keys)
    for key in keys:
        shutil.rmtree(store.trial_dir(key), ignore_errors=True)


class _torch_threads:  # noqa: N801  (a context manager used like a function)
    """Set torch's thread count for the block and restore it (the Python API may run in a notebook)."""

    def __init__(self, threads: int | None) -> None:
        self.threads, self.previous = threads, None

    def __enter__(self) -> None:
        if self.threads:
            import torch

            self.previous = torch.get_num_threads()
            torch.set_num_threads(self.threads)

    def __exit__(self, *exc: object) -> None:
        if self.previous is not None:
            import torch

            torch.set_num_threads(self.previous)
