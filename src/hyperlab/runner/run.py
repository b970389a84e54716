"""Run a study: register its plan, train what is missing (sharing the work with any other runner on
the workspace), wait for trials other processes are training, then write the report."""

from __future__ import annotations

import dataclasses
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
from hyperlab.proposers import Proposer, proposer_for
from hyperlab.runner import register
from hyperlab.runner.events import EventSink, OutputClosed, QuietSink, guard_output
from hyperlab.runner.executor import Executor, LocalExecutor, RunContext, TrialTask, capabilities
from hyperlab.runner.interrupt import StopFlag, graceful_interrupts
from hyperlab.runner.stacked import VectorizedExecutor
from hyperlab.runner.trial import record_outcome
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
    """
    started = time.monotonic()
    settings = resolve_settings(study, settings, workers=workers, device=device, threads=threads,
                                vectorize=vectorize)
    executor = executor or _default_executor(settings)
    if capabilities(executor).devices == "local":  # a cluster's devices are its nodes', not this machine's
        check_device(settings.device)  # before anything is claimed or stored: the machine, not a trial
    workers = settings.workers
    sink = events or QuietSink()
    with Store.open(workspace) as store:
        proposer = proposer_for(study, store, plan)
        plan = proposer.plan()
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
        flag = StopFlag()
        ctx = RunContext(store=store, owner=owner, events=tally, should_stop=flag,
                         settings=settings, stale_after=stale_after)
        try:
            with graceful_interrupts(flag), _torch_threads(settings.threads if workers == 1 else None):
                _ask_train_tell(proposer, executor, ctx, flag, poll_every)
        except KeyboardInterrupt:
            summary.interrupted = True
        except OutputClosed:  # nobody reads the events: stop, leaving the trials in flight resumable
            summary.output_closed = summary.interrupted = True
            _release_own(store, study.name, owner)
            tally = _Tally(QuietSink(), summary.trained)
        summary.interrupted = summary.interrupted or flag.requested
        tasks = register.tasks(proposer.plan())  # a proposer's plan may grow while it runs (a search)
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


def _ask_train_tell(proposer: Proposer, executor: Executor, ctx: RunContext, flag: StopFlag,
                    poll_every: float) -> None:
    """The run's one loop: ask the proposer for trials, register them, train them, tell it how each
    ended; until it proposes nothing (done) or the run is stopped."""
    store, noted = ctx.store, set()
    while not flag():
        width = capabilities(executor, ctx).parallelism or ctx.settings.workers
        batch = proposer.propose(max(width, 1))
        _emit_notes(proposer, ctx)
        if not batch:
            return
        plan = proposer.plan()  # registered before training: a SIGKILL never loses or repeats a trial
        store.register_study(register.study_row(plan.study, plan), register.variant_rows(plan),
                             register.trial_rows(plan))
        trainable = [task for task in batch if not _stored_without_training(proposer, task, ctx)]
        for rule, tasks in _by_prune_rule(proposer, trainable):
            pruning_executor, pruning_ctx = _with_prune_rule(executor, ctx, rule, noted)
            _train_until_done(store, tasks, pruning_executor, pruning_ctx, flag, poll_every)
        statuses = store.trial_statuses(t.key for t in batch)
        for task in batch:
            proposer.tell(task, statuses.get(task.key, "pending"))


def _emit_notes(proposer: Proposer, ctx: RunContext) -> None:
    for message in proposer.notes:
        ctx.events.emit({"event": "search_note", "message": message})
    proposer.notes.clear()


def _stored_without_training(proposer: Proposer, task: TrialTask, ctx: RunContext) -> bool:
    """Store the outcome the proposer gives a trial it will not train (over budget: `infeasible`)."""
    outcome = proposer.infeasible(task)
    if outcome is None:
        return False
    if ctx.store.claim(task.key, ctx.owner, stale_after=ctx.stale_after):
        record_outcome(task, ctx, {"key": task.key, "variant": task.variant, "seed": task.seed},
                       outcome=outcome)
    return True


def _by_prune_rule(proposer: Proposer, tasks: list[TrialTask]) -> list[tuple[Any, list[TrialTask]]]:
    """The batch split by the rule that may prune its trials (in practice one rule, or None)."""
    groups: dict[int, tuple[Any, list[TrialTask]]] = {}
    for task in tasks:
        rule = proposer.prune_rule(task)
        groups.setdefault(id(rule), (rule, []))[1].append(task)
    return list(groups.values())


def _with_prune_rule(executor: Executor, ctx: RunContext, rule: Any,
                     noted: set[str]) -> tuple[Executor, RunContext]:
    """The executor and context that train trials `rule` may prune: the context's prune hook asks
    the rule (decided from the store) after every epoch. An executor that cannot stop a trial
    leaves them to this process, one at a time (said once)."""
    if rule is None:
        return executor, ctx
    store = ctx.store
    pruned = dataclasses.replace(ctx, prune=lambda task, record: rule.reason(store, task.key, record),
                                 prune_rule=rule)
    caps = capabilities(executor, ctx)
    if caps.can_prune:
        _note_once(ctx, noted, caps.pruning_note)
        return executor, pruned
    name = type(executor).__name__
    _note_once(ctx, noted, f"searched trials train one at a time in this process: {name} cannot stop a "
                           f"trial for the pruner; the confirmation stage uses the run's executor")
    return LocalExecutor(), pruned


def _note_once(ctx: RunContext, noted: set[str], message: str | None) -> None:
    if message and message not in noted:
        noted.add(message)
        ctx.events.emit({"event": "search_note", "message": message})


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
