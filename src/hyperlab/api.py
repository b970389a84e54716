"""The Python API, for scripts and notebooks (the CLI is a thin layer over it).

    import hyperlab
    study = hyperlab.Study.load("studies/quickstart.toml", overrides=["train.epochs=5"])
    study.plan()                       # variants x seeds, keys, costs, budget verdicts
    summary = study.run(workspace="hyperlab-runs", workers=2)
    frames = study.results()           # pandas: frames.epochs, frames.finals, frames.trials, ...
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd

from hyperlab.errors import UserError
from hyperlab.runner.events import EventSink, JsonlSink, ListSink, QuietSink
from hyperlab.runner.run import RunSummary, resolve_settings, run_study
from hyperlab.store import DB_NAME, DEFAULT_STALE_AFTER, Store, StudyFrames, resolve_workspace

Progress = Literal["rich", "quiet", "jsonl", "events"]
DEVICES = ("auto", "cpu", "cuda")


class Study:
    """A loaded, validated study file: plan it, run it, read its results."""

    def __init__(self, spec: Any, path: Path | None = None, overrides: Sequence[str] = ()) -> None:
        self.spec = spec  # hyperlab.spec.Study
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
        """
        if workers is not None and workers < 1:
            raise UserError(f"--workers: must be >= 1, got {workers}")
        if threads is not None and threads < 1:
            raise UserError(f"--threads: must be >= 1, got {threads}")
        if device is not None and device not in DEVICES:
            raise UserError(f"--device: must be one of {', '.join(DEVICES)}, got {device!r}")
        sink = _sink(progress)
        settings = resolve_settings(self.spec, None, workers=workers, device=device, threads=threads,
                                    vectorize=vectorize).with_overrides(data_root=data_root)
        summary = run_study(self.spec, self.plan(), workspace=workspace, settings=settings, rerun=rerun,
                            retry_failed=retry_failed, events=sink, report=report, stale_after=stale_after)
        if isinstance(sink, ListSink):
            summary.events = sink.events
        return summary

    def results(self, workspace: str | os.PathLike | None = None) -> StudyFrames:
        """The study's tables as pandas DataFrames: `epochs` (one row per trial and epoch), `finals`
        (test metrics, per-class accuracies, confusion matrices), `trials`, `variants`, and `study`."""
        with Store.open(workspace, create=False) as store:
            return store.frames(self.name)

    def status(self, workspace: str | os.PathLike | None = None) -> pd.DataFrame:
        """Per variant of the current plan: trials done / running / pending / failed."""
        from hyperlab.runner.status import placed_from_plan, status_frame

        variants, trials = placed_from_plan(self.plan())
        if not (resolve_workspace(workspace) / DB_NAME).exists():
            return status_frame(None, variants, trials)  # nothing run yet: all pending
        with Store.open(workspace, create=False) as store:
            if self.spec.design == "search" and store.study(self.name) is not None:
                from hyperlab.runner.status import placed_from_store  # configurations known at run time

                variants, trials = placed_from_store(store, self.name)
            return status_frame(store, variants, trials)

    def __repr__(self) -> str:
        where = f" from {self.path}" if self.path else ""
        return f"<hyperlab.Study {self.name!r}{where}>"


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


def _sink(progress: Progress | EventSink) -> EventSink:
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
