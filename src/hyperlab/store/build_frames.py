"""Turn a study's rows into `StudyFrames` (the column contract is in docs/architecture.md)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pandas as pd

from hyperlab.store.frames import StudyFrames

TRIAL_COLUMNS = [
    "trial_key", "variant", "factor", "level", "is_baseline", "seed", "status", "stop_reason", "error",
    "params", "macs", "flops", "train_flops", "seconds", "best_epoch", "config",
]
EPOCH_BASE_COLUMNS = ["trial_key", "variant", "seed", "epoch"]
FINAL_BASE_COLUMNS = ["trial_key", "variant", "seed"]
VARIANT_COLUMNS = [
    "variant", "factor", "level", "is_baseline", "params", "macs", "flops", "budget_ok", "budget_reason",
    "order",
]
_INT_COLUMNS = ["params", "macs", "flops", "train_flops", "best_epoch"]
BASELINE = "baseline"


def build_frames(study: dict, variants: list[dict], trials: list[dict], epochs: list[dict],
                 finals: list[dict]) -> StudyFrames:
    """`study` as returned by `Store.study`; the rest are rows of the study's tables."""
    variant_by_name = {v["variant"]: v for v in variants}
    seed_rank = {seed: i for i, seed in enumerate(study["seeds"])}

    def sort_key(row: dict) -> tuple:
        variant = variant_by_name.get(row["variant"], {})
        return (variant.get("order", len(variant_by_name)), row["variant"],
                seed_rank.get(row["seed"], len(seed_rank)), row["seed"])

    trials = sorted(trials, key=sort_key)
    trial_rows = []
    for t in trials:
        v = variant_by_name.get(t["variant"], {})
        trial_rows.append({
            "trial_key": t["key"], "variant": t["variant"],
            "factor": v.get("factor"), "level": v.get("level"),
            "is_baseline": bool(v.get("is_baseline", t["variant"] == BASELINE)),
            "seed": t["seed"], "status": t["status"],
            "stop_reason": t["stop_reason"], "error": t["error"],
            "params": t["params"] if t["params"] is not None else v.get("params"),
            "macs": v.get("macs"), "flops": v.get("flops"), "train_flops": v.get("train_flops"),
            "seconds": t["seconds"], "best_epoch": t["best_epoch"], "config": t["config"],
        })
    trials_df = _frame(trial_rows, TRIAL_COLUMNS)

    # A trial shared by two variants of the study (a level equal to the baseline) appears under both.
    placements = [(t["key"], t["variant"], t["seed"]) for t in trials]
    epochs_by_key: dict[str, list[dict]] = {}
    for e in epochs:
        epochs_by_key.setdefault(e["trial_key"], []).append(json.loads(e["metrics"]))
    epoch_rows, metric_names = [], _ordered_keys(r for rs in epochs_by_key.values() for r in rs)
    for key, variant, seed in placements:
        for record in epochs_by_key.get(key, []):
            row = {"trial_key": key, "variant": variant, "seed": seed, "epoch": int(record["epoch"])}
            row.update({name: record.get(name) for name in metric_names if name != "epoch"})
            epoch_rows.append(row)
    epochs_df = _frame(epoch_rows, EPOCH_BASE_COLUMNS + [m for m in metric_names if m != "epoch"])

    final_by_key = {f["trial_key"]: json.loads(f["final"]) for f in finals}
    final_names = _ordered_keys(final_by_key.values())
    final_rows = []
    for key, variant, seed in placements:
        if key in final_by_key:
            row = {"trial_key": key, "variant": variant, "seed": seed}
            row.update({name: final_by_key[key].get(name) for name in final_names})
            final_rows.append(row)
    final_columns = FINAL_BASE_COLUMNS + [n for n in final_names if n not in FINAL_BASE_COLUMNS]
    finals_df = _frame(final_rows, final_columns)

    variant_rows = [{
        "variant": v["variant"], "factor": v["factor"], "level": v["level"],
        "is_baseline": bool(v["is_baseline"]),
        "params": v["params"], "macs": v["macs"], "flops": v["flops"], "budget_ok": bool(v["budget_ok"]),
        "budget_reason": v["budget_reason"], "order": v["order"],
    } for v in sorted(variants, key=lambda v: v["order"])]
    variants_df = _frame(variant_rows, VARIANT_COLUMNS)

    spec = study["spec"]
    data = spec.get("data", {}) if isinstance(spec, dict) else {}
    study_info = {
        "name": study["name"], "description": study["description"], "design": study["design"],
        "seeds": list(study["seeds"]), "data": data,
        "validation_is_test": isinstance(data, dict) and data.get("validation") == "test",
        "running": any(t["status"] in ("pending", "running", "interrupted") for t in trials),
        # updated: the last time anything of this study was written (registration or a trial's end)
        "created": _iso(study["created"]),
        "updated": _iso(max([study["updated"], *(t["finished"] for t in trials if t.get("finished"))])),
        "spec": spec,
    }
    return StudyFrames(trials=trials_df, epochs=epochs_df, finals=finals_df, variants=variants_df,
                       study=study_info)


def _ordered_keys(records) -> list[str]:
    """Union of the records' keys in order of first appearance (deterministic column order)."""
    seen: dict[str, None] = {}
    for record in records:
        for name in record:
            seen.setdefault(name, None)
    return list(seen)


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    df = pd.DataFrame(rows, columns=columns)
    for name in _INT_COLUMNS:  # nullable: unknown until measured or trained
        if name in df.columns:
            df[name] = df[name].astype("Int64")
    for name in ("seed", "epoch", "order"):
        if name in df.columns:
            df[name] = df[name].astype("int64")
    for name in ("is_baseline", "budget_ok"):
        if name in df.columns:
            df[name] = df[name].astype(bool)
    return df


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, UTC).isoformat(timespec="seconds")
