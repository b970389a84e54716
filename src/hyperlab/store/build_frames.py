"""Turn a study's rows into `StudyFrames` (the column contract is in docs/architecture.md)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime

import pandas as pd

from hyperlab.store.frames import StudyFrames

TRIAL_COLUMNS = [
    "trial_key", "variant", "factor", "level", "is_baseline", "seed", "status", "stop_reason", "error",
    "params", "macs", "flops", "train_flops", "seconds", "started", "finished", "best_epoch",
    "best_val_accuracy", "best_val_loss", "numerics", "numerics_changed_at", "config",
]
"""Before `config`: the test metrics of the study's finished trials (`test_accuracy`, `test_loss`, ...:
every number of the finals named test_*), so one table has a trial's outcome. Then, per factor of the
study: `level:<factor>` (the trial's value at the factor's path) and `label:<factor>` (the level's label
when the variant sets that factor). docs/results.md."""
EPOCH_BASE_COLUMNS = ["trial_key", "variant", "seed", "epoch"]
FINAL_BASE_COLUMNS = ["trial_key", "variant", "seed"]
VARIANT_COLUMNS = [
    "variant", "factor", "level", "is_baseline", "params", "macs", "flops", "budget_ok", "budget_reason",
    "order",
]
_INT_COLUMNS = ["params", "macs", "flops", "train_flops", "best_epoch", "numerics_changed_at"]
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
    epochs_by_key: dict[str, list[dict]] = {}
    for e in epochs:
        epochs_by_key.setdefault(e["trial_key"], []).append(json.loads(e["metrics"]))
    final_by_key = {f["trial_key"]: json.loads(f["final"]) for f in finals}
    final_names = _ordered_keys(final_by_key.values())
    test_names = [n for n in final_names if n.startswith("test_")
                  and all(_is_number(f.get(n)) for f in final_by_key.values())]
    spec = study["spec"]
    factors = [f for f in (spec.get("factor") or []) if isinstance(f, dict)] if isinstance(spec, dict) else []
    factor_names = [str(f["name"]) for f in factors]
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
            "seconds": t["seconds"], "started": t.get("started"), "finished": t.get("finished"),
            "best_epoch": t["best_epoch"],
            "best_val_accuracy": _best(epochs_by_key.get(t["key"], []), "val_accuracy", max),
            "best_val_loss": _best(epochs_by_key.get(t["key"], []), "val_loss", min),
            **{name: final_by_key.get(t["key"], {}).get(name) for name in test_names},
            "config": t["config"],
            **numerics_cells(t.get("numerics")),  # absent from databases before schema 4
            **factor_cells(factors, _config(t["config"]), v, t["variant"]),
        })
    factor_columns = [f"{kind}:{name}" for name in factor_names for kind in ("level", "label")]
    trials_df = _frame(trial_rows, TRIAL_COLUMNS[:-1] + test_names + TRIAL_COLUMNS[-1:] + factor_columns)

    # A trial shared by two variants of the study (a level equal to the baseline) appears under both.
    placements = [(t["key"], t["variant"], t["seed"]) for t in trials]
    epoch_rows, metric_names = [], _ordered_keys(r for rs in epochs_by_key.values() for r in rs)
    for key, variant, seed in placements:
        for record in epochs_by_key.get(key, []):
            row = {"trial_key": key, "variant": variant, "seed": seed, "epoch": int(record["epoch"])}
            row.update({name: record.get(name) for name in metric_names if name != "epoch"})
            epoch_rows.append(row)
    epochs_df = _frame(epoch_rows, EPOCH_BASE_COLUMNS + [m for m in metric_names if m != "epoch"])

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


def numerics_cells(stored: str | None) -> dict:
    """`numerics`: what the trial trained under ("cpu float32 torch 2.13.0 threads=1 deterministic"; for
    a trial resumed under other numerics each with its epochs; "" when unknown: trained before schema
    4); `numerics_changed_at`: the first epoch trained under other numerics than the first (or None)."""
    segments = json.loads(stored) if stored else []
    if not segments:
        return {"numerics": "", "numerics_changed_at": None}
    if len(segments) == 1:
        return {"numerics": segments[0].get("text", ""), "numerics_changed_at": None}
    parts = []
    for i, segment in enumerate(segments):
        start = segment["from_epoch"]
        span = (f"epochs {start}-{segments[i + 1]['from_epoch'] - 1}" if i + 1 < len(segments)
                else f"from epoch {start}")
        parts.append(f"{segment.get('text', '')} ({span})")
    return {"numerics": "; ".join(parts), "numerics_changed_at": int(segments[1]["from_epoch"])}


def factor_cells(factors: list[dict], config: dict, variant: dict, name: str) -> dict:
    """`level:<factor>` and `label:<factor>` of one trial. The value is read from the trial's resolved
    config (a factor whose levels or choices are tables gives a dict of the keys they set); the label is the
    level's, read from the variant's name ("<factor>=<label>" or, for a grid point, those joined by
    ", ": cut at ", <next factor>=" so a label such as "[64, 64]" stays whole), and empty when the
    variant leaves the factor at the baseline's value."""
    labels = _labels(name, [str(f["name"]) for f in factors], variant)
    cells: dict = {}
    for f in factors:
        if f.get("path"):
            value = _hashable(_get(config, str(f["path"])))
        else:
            # levels (ablation, grid) or choices (search) that are tables of dotted keys
            tables = [level for level in f.get("levels") or f.get("choices") or [] if isinstance(level, dict)]
            keys = dict.fromkeys(k for level in tables for k in level)
            value = json.dumps({k: _get(config, k) for k in keys}, sort_keys=True)
        cells[f"level:{f['name']}"] = value
        cells[f"label:{f['name']}"] = labels.get(str(f["name"]))
    return cells


def _labels(name: str, factor_names: list[str], variant: dict) -> dict[str, str]:
    """Factor -> level label of a variant named "f=l" or "f1=l1, f2=l2" (factors in study order)."""
    if variant.get("factor") and variant.get("level") is not None and "," not in str(variant["factor"]):
        return {str(variant["factor"]): str(variant["level"])}  # an ablation level: exact
    out: dict[str, str] = {}
    present = [n for n in factor_names if f"{n}=" in name]
    rest = name
    for i, factor in enumerate(present):
        if not rest.startswith(f"{factor}="):
            return {}
        rest = rest[len(factor) + 1:]
        cut = rest.find(f", {present[i + 1]}=") if i + 1 < len(present) else len(rest)
        if cut < 0:
            return {}
        out[factor], rest = rest[:cut], rest[cut + 2:]
    return out


def _get(config: dict, dotted: str) -> object:
    node: object = config
    for part in dotted.split("."):
        if isinstance(node, list) and part.isdigit() and int(part) < len(node):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            return None
    return node


def _hashable(value: object) -> object:
    """Lists as tuples (so `pivot_table` can group by them); tables as their JSON text."""
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return value


def _config(text: object) -> dict:
    try:
        config = json.loads(text) if isinstance(text, str) else text
    except ValueError:
        return {}
    return config if isinstance(config, dict) else {}


def _best(records: list[dict], name: str, pick) -> float | None:
    """The best finite value of `name` over a trial's epoch records (max accuracy, min loss)."""
    values = [float(r[name]) for r in records if isinstance(r.get(name), int | float)
              and math.isfinite(float(r[name]))]
    return pick(values) if values else None


def _is_number(value: object) -> bool:
    return value is None or (isinstance(value, int | float) and not isinstance(value, bool))


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
