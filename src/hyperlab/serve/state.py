"""What the dashboard shows, as JSON-ready dicts computed from one read-only snapshot of the store.

The pages are rendered in the browser from these (`static/dashboard.js`); tests check these dicts.
Curves are drawn as in the report: per variant the mean over seeds with its 95% t-interval as a band
(`hyperlab.analysis.estimate`), one thin line per seed, train dashed and validation solid.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from urllib.parse import quote

import numpy as np
import pandas as pd

from hyperlab.analysis.stats import estimate
from hyperlab.store import Store, StudyFrames

DONE = ("completed", "early_stopped")
ENDED_EARLY = ("early_stopped", "pruned", "diverged", "failed", "infeasible")
WAITING = ("pending", "interrupted")
STATUS_GROUPS = {"done": DONE, "running": ("running",), "pending": WAITING, "failed": ("failed",),
                 "diverged": ("diverged",), "pruned": ("pruned",), "infeasible": ("infeasible",)}
# (chart title, train metric, validation metric): a chart is drawn when either metric has values
CHARTS = (("loss", "train_loss", "val_loss"), ("accuracy", "train_accuracy", "val_accuracy"),
          ("MSE", "train_mse", "val_mse"), ("R²", None, "val_r2"))


def report_index(workspace: Path, study: str) -> Path:
    """Where `hyperlab report` writes a study's report in a workspace."""
    return workspace / "reports" / study / "index.html"


def report_url(workspace: Path, study: str) -> str | None:
    return f"/study/{quote(study, safe='')}/report/index.html" if report_index(workspace, study).is_file() \
        else None


def _counts(statuses: list[str]) -> dict[str, int]:
    return {group: sum(s in members for s in statuses) for group, members in STATUS_GROUPS.items()}


def studies_overview(store: Store) -> list[dict]:
    """One row per study of the workspace: name, design, counts per status group, last update."""
    rows = []
    for name in store.study_names():
        study = store.study(name) or {}
        trials = store.study_trials(name)
        times = [study.get("updated") or 0.0] + [t["heartbeat"] or 0.0 for t in trials]
        rows.append({
            "name": name, "url": f"/study/{quote(name, safe='')}",
            "description": study.get("description", ""),
            "design": study.get("design", ""), "trials": len(trials),
            **_counts([t["status"] for t in trials]), "updated": max(times),
            "report_url": report_url(store.workspace, name),
        })
    return rows


def study_version(store: Store, name: str) -> tuple:
    """What changes whenever anything the study page shows changes: the study's registration time and,
    per trial, its status, heartbeat and last stored epoch (one query; the page state is recomputed
    only when this differs). The report link is part of it too (written after the last trial)."""
    study = store.study(name) or {}
    trials = tuple((t["key"], t["variant"], t["status"], t["heartbeat"], t["last_epoch"])
                   for t in store.study_trials(name))
    return study.get("updated"), trials, report_url(store.workspace, name)


def study_state(store: Store, name: str, frames: StudyFrames | None = None) -> dict:
    """Everything the study page draws: progress, curves, the trial table (one snapshot: `frames`,
    read from `store` when not given)."""
    frames = store.frames(name) if frames is None else frames
    trials = frames.trials
    epochs = frames.epochs
    done_epochs = epochs.groupby(["trial_key", "variant"])["epoch"].max().to_dict() if len(epochs) else {}
    # a trial that ended early (pruned, early-stopped, diverged, failed) will train no more epochs: it
    # counts as planned what it trained, so a finished study reads "N of N" epochs
    stopped = {k: e for (k, _), e in done_epochs.items()}
    planned = {key: (stopped.get(key, 0) if status in ENDED_EARLY else _planned_epochs(config))
               for key, config, status in zip(trials["trial_key"], trials["config"], trials["status"],
                                               strict=True)}
    variants = []
    for variant in _variant_order(frames):
        mine = trials[trials["variant"] == variant]
        keys = list(mine["trial_key"])
        variants.append({
            "name": variant, "trials": len(mine), **_counts(list(mine["status"])),
            "epochs": int(sum(done_epochs.get((k, variant), 0) for k in keys)),
            "epochs_planned": int(sum(planned.get(k) or 0 for k in keys)),
        })
    updated = max([t for t in _times(store, name)] or [0.0])
    return {
        "name": name, "description": frames.study.get("description", ""),
        "design": frames.study.get("design", ""), "running": bool(frames.study.get("running")),
        "updated": updated, "report_url": report_url(store.workspace, name),
        "counts": _counts(list(trials["status"])), "trials_total": len(trials),
        "epochs_total": len(epochs), "epochs_planned": int(sum(v["epochs_planned"] for v in variants)),
        "variants": variants, "charts": _charts(frames), "trials": _trial_rows(frames, done_epochs),
    }


def trial_detail(store: Store, name: str, key: str) -> dict | None:
    """One trial of a study: its per-epoch records, stop reason, error and final metrics."""
    placed = [t for t in store.study_trials(name) if t["key"] == key]
    trial = store.trial(key)
    if not placed or trial is None:
        return None
    final = store.final(key) or {}
    scalars = {k: v for k, v in final.items() if isinstance(v, int | float) and not isinstance(v, bool)}
    return {
        "key": key, "variant": placed[0]["variant"], "seed": trial["seed"], "status": trial["status"],
        "stop_reason": trial["stop_reason"], "error": trial["error"], "best_epoch": trial["best_epoch"],
        "attempts": trial["attempts"], "seconds": trial["seconds"],
        "epochs": [json_safe(r) for r in store.epochs(key)], "final": json_safe(scalars),
    }


def _times(store: Store, name: str) -> list[float]:
    study = store.study(name) or {}
    return [study.get("updated") or 0.0] + [t["heartbeat"] or 0.0 for t in store.study_trials(name)]


def _variant_order(frames: StudyFrames) -> list[str]:
    order = [str(v) for v in frames.variants["variant"]] if len(frames.variants) else []
    return order + [str(v) for v in dict.fromkeys(frames.trials["variant"]) if v not in order]


def _planned_epochs(config: object) -> int | None:
    try:
        return int(json.loads(config)["train"]["epochs"])  # type: ignore[arg-type]
    except (TypeError, ValueError, KeyError):
        return None


def _charts(frames: StudyFrames) -> list[dict]:
    epochs = frames.epochs
    charts = []
    for title, train, val in CHARTS:
        metrics = [m for m in (train, val) if m is not None and m in epochs.columns
                   and pd.to_numeric(epochs[m], errors="coerce").notna().any()]
        if not metrics:
            continue
        series = []
        for variant in _variant_order(frames):
            rows = epochs[epochs["variant"] == variant]
            for metric in metrics:
                series.append({"variant": variant, "metric": metric, "split": "train" if metric == train
                               else "val", **_series(rows, metric)})
        charts.append({"title": title, "metrics": metrics, "series": series})
    return charts


def _series(rows: pd.DataFrame, metric: str) -> dict:
    """Mean, 95% band and per-seed points of one metric of one variant, by epoch."""
    values = pd.to_numeric(rows[metric], errors="coerce").astype(float)
    table = rows.assign(value=values)[np.isfinite(values)]  # NaN/inf (a diverged loss) are not drawn
    mean, seeds = [], {}
    if len(table) == 0:  # a variant that has not finished an epoch yet
        return {"mean": mean, "seeds": seeds}
    for epoch, group in table.groupby("epoch"):
        point = estimate(list(group["value"]))
        mean.append([int(epoch), point.mean, point.lo, point.hi, point.n])
    for seed, group in table.groupby("seed"):
        seeds[str(int(seed))] = [[int(e), float(v)] for e, v in zip(group["epoch"], group["value"],
                                                                     strict=True)]
    return {"mean": mean, "seeds": seeds}


def _trial_rows(frames: StudyFrames, done_epochs: dict) -> list[dict]:
    finals = frames.finals
    test = {}
    if len(finals) and "test_accuracy" in finals.columns:
        test = {(k, v): x for k, v, x in zip(finals["trial_key"], finals["variant"], finals["test_accuracy"],
                                             strict=True)}
    best_val = {}
    if len(frames.epochs) and "val_accuracy" in frames.epochs.columns:
        values = frames.epochs.assign(v=pd.to_numeric(frames.epochs["val_accuracy"], errors="coerce"))
        best_val = values.groupby(["trial_key", "variant"])["v"].max().to_dict()
    rows = []
    for t in frames.trials.to_dict("records"):
        at = (t["trial_key"], t["variant"])
        rows.append(json_safe({
            "key": t["trial_key"], "variant": t["variant"], "seed": int(t["seed"]), "status": t["status"],
            "epochs": int(done_epochs.get(at, 0)), "best_epoch": t["best_epoch"],
            "best_val_accuracy": best_val.get(at), "test_accuracy": test.get(at),
            "seconds": t["seconds"], "stop_reason": t["stop_reason"] or t["error"] or "",
        }))
    return rows


def json_safe(value: object) -> object:
    """NaN/inf become None (JSON has no NaN), pandas NA becomes None, numpy numbers become Python's."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_safe(v) for v in value]
    if value is None or value is pd.NA:
        return None
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()  # numpy scalar
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
