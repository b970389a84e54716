"""TensorBoard export: one run folder per trial with its per-epoch scalars and its hyperparameters.

Layout: `<out>/<variant>/seed-<seed>/` (names made filesystem-safe), so runs sort and filter by
variant. Scalars are grouped so that TensorBoard puts training and validation side by side
(`loss/train`, `loss/val`, `accuracy/val`, ...). Hyperparameters go through the HParams plugin: each
run is a session in its variant's session group (the plugin aggregates a variant's seeds), with the
config keys the study varies, the variant, the seed and the trial's final metrics; one experiment
summary at `<out>` declares them, marking `differs` on those that vary across the study. The seed is
a string: the plugin's only numbers are doubles, and a seed is a label, not a quantity.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

import pandas as pd

from hyperlab.analysis.analyze import flatten_config
from hyperlab.errors import UserError
from hyperlab.store.frames import StudyFrames

TAGS = {"train_loss": "loss/train", "val_loss": "loss/val", "train_accuracy": "accuracy/train",
        "val_accuracy": "accuracy/val", "train_mse": "mse/train", "val_mse": "mse/val", "val_mae": "mae/val",
        "val_r2": "r2/val", "lr": "optim/lr", "seconds": "time/seconds_per_epoch",
        "examples_per_s": "time/examples_per_s"}
FINAL_METRICS = ("test_accuracy", "test_loss", "test_mse", "test_r2", "val_accuracy", "val_loss")
EXPORTED_STATUSES = ("completed", "early_stopped", "diverged", "failed", "interrupted", "running")


def _safe(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=-]+", "_", text).strip("_") or "run"


def _hparam(value: object) -> int | float | str | bool:
    """TensorBoard accepts numbers, strings and booleans; lists and None become their JSON text."""
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else str(value)
    return json.dumps(value)


def _varied_keys(configs: dict[str, dict]) -> list[str]:
    """The dotted config keys whose value differs between at least two trials of the study."""
    flat = [flatten_config(c) for c in configs.values()]
    keys = sorted({k for f in flat for k in f})
    return [k for k in keys if len({json.dumps(f.get(k), sort_keys=True) for f in flat}) > 1]


def _number(value: object) -> float | None:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def export_tensorboard(frames: StudyFrames, out_dir: Path | str) -> list[Path]:
    """Write one TensorBoard run per trial that has started; returns the run folders."""
    try:
        from torch.utils.tensorboard import SummaryWriter
        from torch.utils.tensorboard.summary import hparams as hparams_summaries
    except ImportError as exc:  # tensorboard is an optional dependency
        raise UserError(f"--tensorboard: needs the tensorboard package ({exc}); "
                        f"install it with `pip install 'hyperlab[tensorboard]'`") from exc
    out = Path(out_dir)
    trials = frames.trials[frames.trials["status"].isin(EXPORTED_STATUSES)]
    configs = {}
    for key, text in zip(trials["trial_key"], trials.get("config", pd.Series(dtype=object)), strict=False):
        try:
            configs[key] = json.loads(text)
        except (TypeError, ValueError):
            configs[key] = {}
    varied = _varied_keys(configs)
    runs, sessions = [], []
    for stale in out.glob("events.out.tfevents.*"):  # the experiment summary of an earlier export
        stale.unlink()
    for trial in trials.to_dict("records"):
        key, variant, seed = str(trial["trial_key"]), str(trial["variant"]), int(trial["seed"])
        run_dir = out / _safe(variant) / f"seed-{seed}"
        rows = frames.epochs[(frames.epochs["trial_key"] == key) & (frames.epochs["variant"] == variant)]
        for stale in run_dir.glob("events.out.tfevents.*"):  # a re-export replaces, never duplicates
            stale.unlink()
        flat = flatten_config(configs.get(key, {}))
        hparams = {"variant": variant, "seed": str(seed), "status": str(trial["status"])}
        hparams.update({k: _hparam(flat.get(k)) for k in varied})
        metrics = _final_metrics(frames, key, variant, rows)
        with SummaryWriter(log_dir=str(run_dir)) as writer:
            for record in rows.sort_values("epoch").to_dict("records"):
                for column, tag in TAGS.items():
                    value = _number(record.get(column))
                    if value is not None:
                        writer.add_scalar(tag, value, global_step=int(record["epoch"]))
            _, start, end = hparams_summaries(hparams, metrics)
            _edit(start, lambda data, group=variant: setattr(data.session_start_info, "group_name", group))
            writer.file_writer.add_summary(start)
            writer.file_writer.add_summary(end)
            for name, value in metrics.items():
                writer.add_scalar(name, value)
        runs.append(run_dir)
        sessions.append((hparams, metrics))
    if sessions:
        _write_experiment(out, sessions, SummaryWriter, hparams_summaries)
    return runs


def _write_experiment(out: Path, sessions: list[tuple[dict, dict]], writer_class, hparams_summaries) -> None:
    """One experiment summary at the export's root: every hyperparameter and metric of the sessions,
    with `differs` true for the hyperparameters whose value is not the same in all of them."""
    example: dict = {}
    values: dict[str, set] = {}
    metrics: dict[str, float] = {}
    for hparams, session_metrics in sessions:
        for name, value in hparams.items():
            example.setdefault(name, value)
            values.setdefault(name, set()).add(json.dumps(value))
        metrics.update(session_metrics)
    discrete = {name: sorted({json.loads(v) for v in values[name]}) for name, value in example.items()
                if isinstance(value, str) and all(isinstance(json.loads(v), str) for v in values[name])}
    experiment, _, _ = hparams_summaries(example, metrics, discrete)

    def mark(data) -> None:
        for info in data.experiment.hparam_infos:
            info.differs = len(values.get(info.name, ())) > 1

    _edit(experiment, mark)
    with writer_class(log_dir=str(out)) as writer:
        writer.file_writer.add_summary(experiment)


def _edit(summary, change) -> None:
    """Apply `change` to the HParams plugin data inside a summary protobuf."""
    from tensorboard.plugins.hparams.plugin_data_pb2 import HParamsPluginData

    value = summary.value[0]
    data = HParamsPluginData.FromString(value.metadata.plugin_data.content)
    change(data)
    value.metadata.plugin_data.content = data.SerializeToString()


def _final_metrics(frames: StudyFrames, key: str, variant: str, rows: pd.DataFrame) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for column, name in (("val_accuracy", "best_val_accuracy"),):
        if column in rows.columns:
            best = _number(pd.to_numeric(rows[column], errors="coerce").max())
            if best is not None:
                metrics[f"hparam/{name}"] = best
    if "val_loss" in rows.columns:
        best = _number(pd.to_numeric(rows["val_loss"], errors="coerce").min())
        if best is not None:
            metrics["hparam/best_val_loss"] = best
    finals = frames.finals
    if len(finals):
        mine = finals[(finals["trial_key"] == key) & (finals["variant"] == variant)]
        for column in FINAL_METRICS:
            if column in mine.columns and len(mine):
                value = _number(mine[column].iloc[0])
                if value is not None:
                    metrics[f"hparam/final_{column}"] = value
    return metrics
