"""MLflow export: one experiment per study, one run per trial, nested under one parent run per study.

- run name `<variant>/seed-<seed>`; params: the flattened resolved config (`train.optimizer.lr`, ...)
  and the seed; tags: study, variant, factor, level, seed, trial_key, status;
- metrics: every number of the epoch records with step = epoch; the final test metrics once the
  trial has finished (`test_accuracy`, `test_loss`, ...; the final validation numbers as `final_val_*`);
- the parent run (tag `hyperlab.kind = study`) carries the report's index.html as an artifact.

Re-exporting updates instead of duplicating: runs are found again by their tags (trial_key and
variant), params are only written when a run is created (a trial key fixes its config), and the tag
`hyperlab.epochs_exported` records how many epochs a run already has, written in the same
`log_batch` call as the epochs.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hyperlab.analysis.analyze import flatten_config
from hyperlab.errors import UserError
from hyperlab.store.frames import StudyFrames

EXPORTED_STATUSES = ("completed", "early_stopped", "diverged", "failed", "interrupted", "running")
RUN_STATUS = {"completed": "FINISHED", "early_stopped": "FINISHED", "diverged": "FAILED", "failed": "FAILED",
              "interrupted": "KILLED"}
KIND, EPOCHS_DONE, FINAL_DONE = "hyperlab.kind", "hyperlab.epochs_exported", "hyperlab.final_exported"
MAX_PARAM_CHARS = 6000  # MLflow's limit on a param value
BATCH = 100  # params per log_batch call (MLflow's limit); metrics go in batches of 10 x this


@dataclass(frozen=True)
class MlflowExport:
    experiment_id: str
    parent_run_id: str
    created: int  # trial runs created by this export
    updated: int  # trial runs found from an earlier export and brought up to date


def export_mlflow(frames: StudyFrames, tracking_uri: str, *, report: Path | None = None) -> MlflowExport:
    """Export the study's started trials to the MLflow tracking server or store at `tracking_uri`."""
    try:
        from mlflow.tracking import MlflowClient
    except ImportError as exc:  # mlflow is an optional dependency
        raise UserError(f"--mlflow: needs the mlflow package ({exc}); install it with "
                        f"`pip install 'hyperlab[mlflow]'`") from exc
    with _quiet_mlflow():
        return _export(frames, MlflowClient(tracking_uri=tracking_uri), report)


@contextmanager
def _quiet_mlflow() -> Iterator[None]:
    """MLflow logs at INFO to stderr when it creates or migrates a tracking store ("Creating initial
    MLflow database tables..."); the export says what it did itself, so only warnings get through."""
    logger = logging.getLogger("mlflow")
    level = logger.level
    logger.setLevel(max(level, logging.WARNING))
    try:
        yield
    finally:
        logger.setLevel(level)


def _export(frames: StudyFrames, client, report: Path | None) -> MlflowExport:
    from mlflow.entities import Metric, Param, RunTag

    study = str(frames.study["name"])
    experiment = client.get_experiment_by_name(study)
    experiment_id = experiment.experiment_id if experiment else client.create_experiment(
        study, tags={"hyperlab.description": frames.study.get("description", "")})
    runs = _existing_runs(client, experiment_id)
    parent = runs.get(("study", ""))
    if parent is None:
        parent = client.create_run(experiment_id, run_name=study, tags={
            KIND: "study", "study": study, "design": str(frames.study.get("design", ""))})
    parent_id = parent.info.run_id
    if report is not None and report.is_file():
        client.log_artifact(parent_id, str(report))

    trials = frames.trials[frames.trials["status"].isin(EXPORTED_STATUSES)]
    created = updated = 0
    now = int(time.time() * 1000)
    for trial in trials.to_dict("records"):
        key, variant, seed, status = str(trial["trial_key"]), str(trial["variant"]), int(trial["seed"]), \
            str(trial["status"])
        tags = {KIND: "trial", "mlflow.parentRunId": parent_id, "study": study, "variant": variant,
                "factor": _text(trial["factor"]), "level": _text(trial["level"]), "seed": str(seed),
                "trial_key": key, "status": status}
        run = runs.get((key, variant))
        if run is None:
            # the trial's own start (not the export's), so MLflow's start time and duration are the trial's
            run = client.create_run(experiment_id, run_name=f"{variant}/seed-{seed}", tags=tags,
                                    start_time=_millis(trial.get("started")))
            params = [Param(k, _param(v)) for k, v in _params(trial["config"], seed).items()]
            for start in range(0, len(params), BATCH):
                client.log_batch(run.info.run_id, params=params[start:start + BATCH])
            created += 1
            done_epochs, final_done = 0, False
        else:
            updated += 1
            done_epochs = int(run.data.tags.get(EPOCHS_DONE, "0"))
            final_done = run.data.tags.get(FINAL_DONE) == "1"
        run_id = run.info.run_id
        rows = frames.epochs[(frames.epochs["trial_key"] == key) & (frames.epochs["variant"] == variant)]
        records = sorted(rows.to_dict("records"), key=lambda r: int(r["epoch"]))
        new = [r for r in records if int(r["epoch"]) > done_epochs]
        metrics = [Metric(name, value, now, int(r["epoch"])) for r in new
                   for name, value in _numbers(r, skip=("trial_key", "variant", "seed", "epoch")).items()]
        finished = status in RUN_STATUS
        final = _final(frames, key, variant) if finished and not final_done else {}
        metrics += [Metric(name, value, now, 0) for name, value in final.items()]
        batch_tags = [RunTag(k, v) for k, v in tags.items() if k != "mlflow.parentRunId"]
        batch_tags.append(RunTag(EPOCHS_DONE, str(max([done_epochs] + [int(r["epoch"]) for r in records]))))
        if final:
            batch_tags.append(RunTag(FINAL_DONE, "1"))
        for start in range(0, max(1, len(metrics)), 10 * BATCH):  # tags ride with the last batch
            chunk, last = metrics[start:start + 10 * BATCH], start + 10 * BATCH >= len(metrics)
            client.log_batch(run_id, metrics=chunk, tags=batch_tags if last else [])
        if finished:
            client.set_terminated(run_id, RUN_STATUS[status], end_time=_millis(trial.get("finished")))
    if not frames.study.get("running"):
        client.set_terminated(parent_id, "FINISHED")
    return MlflowExport(experiment_id, parent_id, created=created, updated=updated)


def _millis(timestamp: object) -> int | None:
    """A store time (Unix seconds) as MLflow's milliseconds; None (MLflow's now) when unknown."""
    if timestamp is None or (isinstance(timestamp, float) and math.isnan(timestamp)):
        return None
    return int(float(timestamp) * 1000)


def _existing_runs(client, experiment_id: str) -> dict[tuple[str, str], object]:
    """Runs of an earlier export: {(trial_key, variant): run} and {("study", ""): the parent run}."""
    out: dict[tuple[str, str], object] = {}
    token = None
    while True:
        page = client.search_runs([experiment_id], filter_string=f"tags.`{KIND}` != ''",
                                  max_results=1000, page_token=token)
        for run in page:
            tags = run.data.tags
            if tags.get(KIND) == "study":
                out[("study", "")] = run
            elif tags.get(KIND) == "trial":
                out[(tags.get("trial_key", ""), tags.get("variant", ""))] = run
        token = page.token
        if not token:
            return out


def _params(config: object, seed: int) -> dict[str, object]:
    try:
        tree = json.loads(config) if isinstance(config, str) else {}
    except ValueError:
        tree = {}
    return {**flatten_config(tree), "seed": seed}


def _param(value: object) -> str:
    text = value if isinstance(value, str) else json.dumps(value)
    return text if len(text) <= MAX_PARAM_CHARS else text[: MAX_PARAM_CHARS - 15] + "... (truncated)"


def _text(value: object) -> str:
    return "" if value is None or (isinstance(value, float) and math.isnan(value)) else str(value)


def _numbers(record: dict, skip: tuple[str, ...] = ()) -> dict[str, float]:
    """The record's numeric entries (NaN kept: a diverged loss is NaN; None and lists dropped)."""
    out = {}
    for name, value in record.items():
        if name in skip or isinstance(value, bool) or value is None:
            continue
        try:
            out[name] = float(value)
        except (TypeError, ValueError):
            continue
    return out


def _final(frames: StudyFrames, key: str, variant: str) -> dict[str, float]:
    finals = frames.finals
    if len(finals) == 0:
        return {}
    mine = finals[(finals["trial_key"] == key) & (finals["variant"] == variant)]
    if len(mine) == 0:
        return {}
    values = _numbers(mine.iloc[0].to_dict(), skip=("trial_key", "variant", "seed"))
    return {(name if "test" in name else f"final_{name}"): value for name, value in values.items()}
