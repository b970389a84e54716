"""Where a study stands: per variant, how many trials are done, running, pending, failed or diverged."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from hyperlab.store import DEFAULT_STALE_AFTER, Store

STATUS_COLUMNS = ["variant", "factor", "level", "budget_ok", "trials", "done", "running", "pending", "failed",
                  "diverged", "running_epochs", "resumes", "numerics", "mixed_numerics"]
# diverged is an outcome of the hyperparameters (a result); failed is a trial that could not train
_GROUP = {"completed": "done", "early_stopped": "done", "failed": "failed", "diverged": "diverged",
          "running": "running", "pending": "pending", "interrupted": "pending",
          "pruned": "done", "infeasible": "done"}  # search outcomes: results, never retried


@dataclass(frozen=True)
class PlacedTrial:
    """A (variant, seed) of a study and the trial that realises it."""

    variant: str
    seed: int
    key: str
    epochs: int  # planned


def placed_from_plan(plan) -> tuple[list[dict], list[PlacedTrial]]:
    """Variants (dicts: variant, factor, level, budget_ok) and placed trials of a plan."""
    from hyperlab.runner.register import variant_rows

    variants = [{"variant": v.variant, "factor": v.factor, "level": v.level, "budget_ok": v.budget_ok}
                for v in variant_rows(plan)]
    trials = [PlacedTrial(t.variant, int(t.seed), t.key, int(t.config.train.epochs))
              for t in plan.trials if t.budget_ok]
    return variants, trials


def placed_from_store(store: Store, study_name: str) -> tuple[list[dict], list[PlacedTrial]]:
    """The same as `placed_from_plan`, for the plan last registered by a run."""
    variants = [{"variant": v["variant"], "factor": v["factor"], "level": v["level"],
                 "budget_ok": bool(v["budget_ok"])} for v in store.variants(study_name)]
    trials = [PlacedTrial(r["variant"], r["seed"], r["key"], int(json.loads(r["config"])["train"]["epochs"]))
              for r in store.study_trials(study_name)]
    return variants, trials


def status_frame(store: Store | None, variants: Sequence[dict], trials: Sequence[PlacedTrial],
                 stale_after: float = DEFAULT_STALE_AFTER) -> pd.DataFrame:
    """One row per variant (plan order) with trial counts; `running_epochs` lists, for each trial in
    flight, `seed S: E/N` (last stored epoch of N); `resumes` lists the pending trials that stopped
    part way, `seed S: interrupted at epoch E, resumes there` (a running trial whose owner died counts
    as pending and reads "stopped at epoch E (its process died)"). Without a store (no workspace
    yet) every trial is pending."""
    counts = {"trials": 0, "done": 0, "running": 0, "pending": 0, "failed": 0, "diverged": 0,
              "running_epochs": "", "resumes": "", "numerics": "", "mixed_numerics": ""}
    rows = {v["variant"]: {**v, **counts} for v in variants}
    for t in trials:
        unknown = {"variant": t.variant, "factor": None, "level": None, "budget_ok": True}
        row = rows.setdefault(t.variant, {**unknown, **counts})
        trial = None if store is None else store.trial(t.key)
        status = "pending" if trial is None else trial["status"]
        how = "interrupted"
        if status == "running" and store.is_dead(trial, stale_after):
            status, how = "interrupted", "stopped"
        group = _GROUP[status]
        if status == "interrupted":
            epochs = store.epochs(t.key)
            if epochs:
                note = f"seed {t.seed}: {how} at epoch {epochs[-1]['epoch']}"
                note += " (its process died), resumes there" if how == "stopped" else ", resumes there"
                row["resumes"] = "; ".join(filter(None, [row["resumes"], note]))
        _note_numerics(row, t.seed, trial)
        row["trials"] += 1
        row[group] += 1
        if group == "running":
            epochs = store.epochs(t.key)
            last = epochs[-1]["epoch"] if epochs else 0
            flight = f"seed {t.seed}: {last}/{t.epochs}"
            node = store.placement(t.key)
            if node:
                flight += f" on node {node[:12]}"
            row["running_epochs"] = ", ".join(filter(None, [row["running_epochs"], flight]))
    return pd.DataFrame(list(rows.values()), columns=STATUS_COLUMNS)


def _note_numerics(row: dict, seed: int, trial: dict | None) -> None:
    """`numerics`: the distinct numerics the variant's finished trials trained under (docs/results.md),
    joined by " | "; `mixed_numerics`: "seed S: from epoch E" for each trial resumed under other numerics."""
    stored = (trial or {}).get("numerics")  # absent before store schema 4, empty until it finishes
    segments = json.loads(stored) if stored else []
    for segment in segments:
        text = segment.get("text", "")
        if text and text not in row["numerics"].split(" | "):
            row["numerics"] = " | ".join(filter(None, [row["numerics"], text]))
    if len(segments) > 1:
        note = f"seed {seed}: from epoch {segments[1]['from_epoch']}"
        row["mixed_numerics"] = "; ".join(filter(None, [row["mixed_numerics"], note]))
