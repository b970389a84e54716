"""The Python API, for scripts and notebooks (the CLI is a thin layer over it).

    import hyperlab
    study = hyperlab.Study.load("studies/quickstart.toml", overrides=["train.epochs=5"])
    study.plan()                       # variants x seeds, keys, costs, budget verdicts
    summary = study.run(workspace="hyperlab-runs", workers=2)
    frames = study.results()           # pandas: frames.epochs, frames.finals, frames.trials, ...
    study.report()                     # the HTML + Markdown report of exactly these trials
    study.export(tensorboard="tb/")    # TensorBoard runs, one per trial

Selection, the same for every command and this API: a study *file* (with its overrides) selects
the trials it plans; a study *name* (`hyperlab.results("quickstart")`, `hyperlab report quickstart`)
selects everything stored under that name. `frames.study["selection"]` says which.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from hyperlab.errors import UserError
from hyperlab.store import DB_NAME, DEFAULT_STALE_AFTER, Store, StudyFrames, resolve_workspace

if TYPE_CHECKING:  # the runner (and torch) load only when a study is loaded or run
    import pandas as pd

    from hyperlab.runner.events import EventSink
    from hyperlab.runner.run import RunSummary

Progress = Literal["rich", "quiet", "jsonl", "events"]


class Study:
    """A loaded, validated study file: plan it, run it, read its results."""

    def __init__(self, spec: Any, path: Path | None = None, overrides: Sequence[str] = ()) -> None:
        self.spec = spec  # hyperlab.spec.StudySpec: the validated file
        self.path = path
        self.overrides = tuple(overrides)
        self._plan: Any = None

    @classmethod
    def load(cls, path: str | os.PathLike, overrides: Sequence[str] = ()) -> Study:
        """Read a study file; `overrides` are `key=value` strings as `--set` takes them. Raises
        UserError listing every problem of the file, each with its key path."""
        from hyperlab.spec import load_study

        path = Path(path)
        if not path.is_file():
            raise UserError(f"{path}: no such study file")
        return cls(load_study(path, list(overrides)), path, overrides)

    @property
    def name(self) -> str:
        return self.spec.name

    def plan(self) -> Any:
        """The plan (`hyperlab.plan.Plan`): every variant x seed as a keyed trial with its config."""
        if self._plan is None:
            from hyperlab.plan import make_plan

            self._plan = make_plan(self.spec)
        return self._plan

    def _read_plan(self, store: Store | None) -> Any:
        """The plan for commands that only read results: the same keys, with each variant's cost
        taken from the store when a run of this name stored that very config, so that `status`,
        `results` and `report` of a study file need no torch (costs are measured on a built model)."""
        if self._plan is not None or store is None:
            return self.plan()
        from hyperlab.plan import make_plan
        from hyperlab.plan.cost import cost_key, variant_cost

        stored = _stored_costs(store, self.name)
        return make_plan(self.spec,
                         cost_of=lambda config: stored.get(cost_key(config)) or variant_cost(config))

    def run(
        self,
        workspace: str | os.PathLike | None = None,
        *,
        workers: int | None = None,
        rerun: bool = False,
        retry_failed: bool = False,
        device: str | None = None,
        threads: int | None = None,
        progress: Progress | EventSink = "rich",
        report: bool = True,
        vectorize: bool | None = None,
        data_root: str | None = None,
        stale_after: float = DEFAULT_STALE_AFTER,
        executor: str | None = None,
        executor_options: dict | None = None,
    ) -> RunSummary:
        """Train what the workspace does not have yet and write the report; returns a summary.

        `workers` processes share the trials (each with cores // workers torch threads unless
        `threads`); `rerun` retrains every trial, `retry_failed` the failed and diverged ones;
        `device` / `threads` / `data_root` override the study file's run defaults (train.device,
        train.threads, data.root): run settings, never part of a trial's key.
        `progress`: "rich" (live bars), "quiet", "jsonl" (events on stdout), "events" (kept in
        `summary.events`) or any object with `emit(event)` and `close()`. Ctrl-C stops after the
        current epoch (stored and checkpointed): `summary.interrupted` is then True. `vectorize`:
        train compatible trials of one seed as one stacked model (docs/performance.md).
        `executor`: "vectorized", "local" or "ray" (a Ray cluster, docs/distributed.md), with its
        `executor_options` (ray: address, cpus_per_trial, gpus_per_trial).
        """
        check_run_options(workers=workers, threads=threads, device=device, executor=executor)
        from hyperlab.runner.events import ListSink
        from hyperlab.runner.run import resolve_settings, run_study

        sink = _sink(progress)
        settings = resolve_settings(self.spec, None, workers=workers, device=device, threads=threads,
                                    vectorize=vectorize).with_overrides(
            data_root=data_root, executor=executor,
            executor_options={} if executor == "ray" and executor_options is None else executor_options)
        summary = run_study(self.spec, self.plan(), workspace=workspace, settings=settings, rerun=rerun,
                            retry_failed=retry_failed, events=sink, report=report,
                            write_report=write_study_report, stale_after=stale_after,
                            proposer=self._proposer_factory())
        if isinstance(sink, ListSink):
            summary.events = sink.events
        return summary

    def results(self, workspace: str | os.PathLike | None = None) -> StudyFrames:
        """The trials this study file plans (with its overrides), as the workspace holds them, as
        pandas DataFrames: `trials` (one row per trial: status, cost, headline metrics, one column
        per factor), `epochs` (per trial and epoch), `finals` (test metrics, per-class accuracies,
        confusion matrices), `variants`, and `study` (a dict; `study["selection"]` says what was
        selected). Columns and units: docs/results.md."""
        from hyperlab.runner.register import study_row, trial_rows, variant_rows

        with Store.open(workspace, create=False, readonly=True) as store:
            plan = self._stored_plan(store)
            return store.planned_frames(study_row(self.spec, plan), variant_rows(plan), trial_rows(plan),
                                        source=self.describe())

    def report(self, workspace: str | os.PathLike | None = None,
               out: str | os.PathLike | None = None) -> Path:
        """Write the report of `results()` (default: WORKSPACE/reports/NAME/) and return the path of
        its index.html."""
        frames = self.results(workspace)
        return write_frames_report(frames, workspace, out)

    def export(self, *, tensorboard: str | os.PathLike,
               workspace: str | os.PathLike | None = None) -> list[Path]:
        """Write one TensorBoard run per started trial of `results()` under `tensorboard`
        (`<variant>/seed-<seed>/`); returns the run folders."""
        from hyperlab.report.tensorboard import export_tensorboard

        return export_tensorboard(self.results(workspace), Path(tensorboard))

    def status(self, workspace: str | os.PathLike | None = None) -> pd.DataFrame:
        """Per variant of the current plan: trials done / running / pending / failed."""
        from hyperlab.runner.status import placed_from_plan, status_frame

        if not (resolve_workspace(workspace) / DB_NAME).exists():
            variants, trials = placed_from_plan(self.plan())
            return status_frame(None, variants, trials)  # nothing run yet: all pending
        with Store.open(workspace, create=False, readonly=True) as store:
            if store.study(self.name) is not None and not self._fixed_plan():
                from hyperlab.runner.status import placed_from_store  # trials proposed at run time

                variants, trials = placed_from_store(store, self.name)
            else:
                variants, trials = placed_from_plan(self._stored_plan(store))
            return status_frame(store, variants, trials)

    def _stored_plan(self, store: Store) -> Any:
        """The plan as the store holds it: a design that proposes trials at run time (a search)
        knows its configurations from the store; a fixed design's plan is `plan()`."""
        base = self._read_plan(store)  # costs the store has: no torch
        if store.study(self.name) is None:
            return base
        return self._proposer_factory()(self.spec, store, base).plan()

    def _fixed_plan(self) -> bool:
        """Whether the study's plan is all its proposer proposes (no seeds or configurations added
        at run time): the status of a growing one is what its runs registered."""
        from hyperlab.proposers import PROPOSERS

        return self.spec.seed_rule is None and bool(getattr(PROPOSERS[self.spec.design], "fixed_plan", False))

    def _proposer_factory(self) -> Any:
        """(study, store, plan) -> the run's proposer: the design's (hyperlab.proposers), or, for
        `seeds = { min, max, target }`, the seeds-until-settled proposer with the analysis' rule
        (the API composes it, as it composes the report: the runner imports no analysis)."""
        from hyperlab.proposers import proposer_for

        if self.spec.seed_rule is None:
            return proposer_for
        from hyperlab.analysis.settle import next_seeds
        from hyperlab.proposers.settle import SeedsUntilSettled

        return lambda study, store, plan: SeedsUntilSettled(study, store, plan, next_seeds)

    def describe(self) -> str:
        """Where this study comes from: `studies/x.toml` plus its overrides, if any."""
        where = str(self.path) if self.path else f"study {self.name!r}"
        return where + (f" with --set {' --set '.join(self.overrides)}" if self.overrides else "")

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        sets = f", overrides={list(self.overrides)}" if self.overrides else ""
        return f"<hyperlab.Study {self.name!r}{where}{sets}>"


def results(name: str, workspace: str | os.PathLike | None = None) -> StudyFrames:
    """Everything stored under a study name (the trials of its last run's plan), whatever study
    file is at hand: the counterpart of `hyperlab results NAME`."""
    with Store.open(workspace, create=False, readonly=True) as store:
        return store.frames(name)


def write_frames_report(frames: StudyFrames, workspace: str | os.PathLike | None = None,
                        out: str | os.PathLike | None = None) -> Path:
    """Analyse `frames` and write the report to `out` (default: WORKSPACE/reports/NAME/)."""
    from hyperlab.analysis import analyze
    from hyperlab.report import write_report

    root = resolve_workspace(workspace)
    out_dir = Path(out) if out is not None else root / "reports" / frames.study["name"]
    return Path(write_report(analyze(frames), out_dir, artifacts_dir=root / "artifacts"))


def select(target: str, overrides: Sequence[str] = (),
           workspace: str | os.PathLike | None = None) -> StudyFrames:
    """The one selection rule of every command that reads results: a study file (+ overrides)
    selects the trials it plans; a study name selects everything stored under it."""
    name, study = find_study(target, overrides)
    if study is not None:
        return study.results(workspace)
    if overrides:
        raise UserError(f"--set: applies to a study file, and {target!r} is a study name (a name "
                        f"selects everything stored under it); pass the study file to select its plan")
    return results(name, workspace)


def write_study_report(store: Store, study_name: str) -> Path:
    """run -> analysis -> report: the study's report in `<workspace>/reports/<study>/`."""
    from hyperlab.analysis import analyze  # imported when a report is written: matplotlib is slow
    from hyperlab.report import write_report

    out_dir = store.workspace / "reports" / study_name
    return Path(write_report(analyze(store.frames(study_name)), out_dir))


def find_study(target: str, overrides: Sequence[str] = ()) -> tuple[str, Study | None]:
    """A study named on the command line: a study file (loaded), or else the name of a study the
    workspace already holds (returned with None)."""
    path = Path(target)
    if path.is_file():
        study = Study.load(path, overrides)
        return study.name, study
    if path.suffix == ".toml" or os.sep in target:
        raise UserError(f"{target}: no such study file")
    return target, None


def check_run_options(**options: Any) -> None:
    """UserError naming each bad option as its flag (`--workers: must be >= 1, got 0`), checked by
    `hyperlab.engine.RunSettings` itself: the allowed values are declared there once."""
    from pydantic import ValidationError

    from hyperlab.engine.settings import RunSettings

    try:
        RunSettings.model_validate({k: v for k, v in options.items() if v is not None})
    except ValidationError as exc:
        raise UserError("\n".join(_option_error(RunSettings, e) for e in exc.errors())) from None


def _option_error(settings: Any, error: Any) -> str:
    import typing

    name = str(error["loc"][0])
    flag, given, limits = "--" + name.replace("_", "-"), error.get("input"), error.get("ctx") or {}
    if error["type"] == "literal_error":
        allowed = typing.get_args(settings.model_fields[name].annotation)
        return f"{flag}: must be one of {', '.join(allowed)}, got {given!r}"
    for bound, sign in (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<")):
        if bound in limits:
            return f"{flag}: must be {sign} {limits[bound]}, got {given}"
    return f"{flag}: {error['msg']}, got {given!r}"


def _stored_costs(store: Store, name: str) -> dict[str, Any]:
    """What a cost depends on (`hyperlab.plan.cost.cost_key`) -> the cost a run of this study name
    stored for a variant of that data, model and loss."""
    from hyperlab.engine import TrialConfig
    from hyperlab.plan.cost import Cost, cost_key

    costs = {}
    for v in store.variants(name):
        if all(v[k] is not None for k in ("params", "macs", "flops", "train_flops")):
            # trainable_params is not stored; nothing that reads results uses it (`hyperlab plan` does,
            # and measures)
            costs[v["variant"]] = Cost(v["params"], v["params"], v["macs"], v["flops"], v["train_flops"])
    configs = {t["variant"]: t["config"] for t in store.study_trials(name) if t["variant"] in costs}
    return {cost_key(TrialConfig.from_stored(config)): costs[variant] for variant, config in configs.items()}


def _sink(progress: Progress | EventSink) -> EventSink:
    from hyperlab.runner.events import JsonlSink, ListSink, QuietSink

    if not isinstance(progress, str):
        return progress
    if progress == "rich":
        from hyperlab.runner.progress import RichSink

        return RichSink()
    if progress == "quiet":
        return QuietSink()
    if progress == "jsonl":
        return JsonlSink()
    if progress == "events":
        return ListSink()
    raise UserError(f"progress: must be rich, quiet, jsonl or events, got {progress!r}")
