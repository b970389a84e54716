"""`hyperlab plan STUDY`: the variants and trials a study expands into, what each costs, which are
over budget, and which trials the workspace already holds. Trains nothing, writes nothing."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

if TYPE_CHECKING:
    from hyperlab.plan import Plan


# Finished trials are results: a run reuses them (hyperlab.store.FINISHED_STATUSES, not imported here
# so that `hyperlab --help` does not load the store).
_FINISHED = frozenset({"completed", "early_stopped", "diverged", "failed"})


def command(
    study: str = typer.Argument(..., metavar="STUDY", help="The study file (TOML).", show_default=False),
    as_json: bool = typer.Option(False, "--json", help="Print the plan as JSON instead of a table."),
    overrides: list[str] | None = typer.Option(
        None, "--set", metavar="KEY=VALUE",
        help="Override a key of the study file, e.g. --set train.epochs=5 (repeatable)."),
    workspace: str | None = typer.Option(
        None, "--workspace", envvar="HYPERLAB_WORKSPACE",
        help="Workspace whose store is checked for trials already run (default: ./hyperlab-runs)."),
) -> None:
    """List a study's variants, their cost and budget verdict, and its trials with their status."""
    from hyperlab.plan import make_plan
    from hyperlab.spec import load_study

    plan = make_plan(load_study(study, overrides or []))
    statuses, why = stored_statuses(workspace, plan)
    if as_json:
        document = plan.to_dict(statuses)
        declined = not_stacked(plan)
        for variant in document["variants"]:
            variant["not_stacked"] = declined.get(variant["name"])
        for trial in document["trials"]:
            if trial["key"] in why:
                trial["pending_because"] = why[trial["key"]]
        document["stacks"] = planned_stacks(plan)
        typer.echo(json.dumps(document, indent=2))
    else:
        # A pipe or a file gets a wide table rather than one wrapped at 80 columns.
        print_plan(plan, statuses, Console(width=None if sys.stdout.isatty() else 160), why)


DATA_CHANGED = "data changed since these trials ran"


def not_stacked(plan: Plan) -> dict[str, str]:
    """Variant -> why its trials train one at a time instead of in a stack (the vectorized path
    declines them), for the variants it declines."""
    from hyperlab.vectorized import why_not_vectorized

    return {v.name: reason for v in plan.variants if (reason := why_not_vectorized(v.config)) is not None}


def planned_stacks(plan: Plan) -> list[dict]:
    """The stacks a run of this plan trains on this machine now (runner.stacked.stack_groups, sized
    by the device's free memory): per stack its trials' keys, variants and seeds, the parameters of
    one trial, and the estimated memory of the whole stack (hyperlab.vectorized.memory)."""
    from hyperlab.runner.stacked import stack_groups
    from hyperlab.vectorized.memory import trial_footprint

    settings = plan.study.run_defaults()
    groups = stack_groups(plan.trials_to_train(), None, settings.device,
                          eval_batch_size=settings.eval_batch_size)
    out = []
    for group in groups:
        footprint = trial_footprint(group[0].config, settings.eval_batch_size,
                                    shared=len({t.seed for t in group}) == 1)
        out.append({"trials": len(group), "keys": [t.key for t in group],
                    "variants": list(dict.fromkeys(t.variant for t in group)),
                    "seeds": sorted({int(t.seed) for t in group}), "params": footprint.params,
                    "memory_bytes": footprint.bytes * len(group) if len(group) > 1 else None})
    return out


def stored_statuses(workspace: str | None, plan: Plan) -> tuple[dict[str, str], dict[str, str]]:
    """(status of the keys the workspace's store holds, why a trial the store held under another
    key is pending again); both empty when there is no store yet (planning never creates one)."""
    from hyperlab.store import DB_NAME, Store, resolve_workspace

    root = resolve_workspace(workspace)
    if not (root / DB_NAME).is_file():
        return {}, {}
    with Store.open(Path(root), create=False, readonly=True) as store:
        statuses = store.trial_statuses(plan.keys())
        registered = store.study_trials(plan.study.name)
        engines = {r["key"]: json.loads((store.trial(r["key"]) or {}).get("versions") or "{}").get("engine")
                   for r in registered}
        return statuses, pending_reasons(plan, statuses, registered, engines)


def pending_reasons(plan: Plan, statuses: dict[str, str], registered: list[dict],
                    engines: dict[str, str | None]) -> dict[str, str]:
    """Trials not in the store whose (variant, seed) the last run registered with the same config
    under another key: the engine that trained them (`engines`: key -> ENGINE_VERSION) or, when it
    is this one, the data changed (the key holds the data fingerprint)."""
    from hyperlab.engine import ENGINE_VERSION, TrialConfig

    before = {(r["variant"], int(r["seed"])): r for r in registered}
    why: dict[str, str] = {}
    for trial in plan.trials:
        old = before.get((trial.variant, int(trial.seed)))
        if trial.key in statuses or old is None or old["key"] == trial.key:
            continue
        try:
            same_config = TrialConfig.from_stored(old["config"]) == trial.config
        except ValueError:  # a config of an older, incompatible version: not a data change
            same_config = False
        engine = engines.get(old["key"])
        if same_config and engine not in (None, ENGINE_VERSION):
            why[trial.key] = f"engine version changed ({engine} -> {ENGINE_VERSION})"
        elif same_config:
            why[trial.key] = DATA_CHANGED
    return why


def si(value: int | None) -> str:
    """1234567 -> "1.23M": MACs and FLOPs span many orders of magnitude."""
    if value is None:
        return "-"
    for limit, suffix in ((10**12, "T"), (10**9, "G"), (10**6, "M"), (10**3, "k")):
        if abs(value) >= limit:
            return f"{value / limit:.3g}{suffix}"
    return str(value)


def _stored(keys: tuple[str, ...], statuses: dict[str, str]) -> str:
    counts = Counter(statuses[k] for k in keys if k in statuses)
    return ", ".join(f"{n} {status}" for status, n in sorted(counts.items())) or "-"


def _mib(value: int | None) -> str:
    return "-" if value is None else f"{value / 2**20:,.1f} MiB"


def print_stacks(plan: Plan, console: Console) -> None:
    """The stacks a run trains (a stack of 1 is a trial trained alone), with their estimated memory."""
    stacks = [s for s in planned_stacks(plan) if s["trials"] > 1]
    if not stacks:
        return
    table = Table(show_lines=False, header_style="bold", title="Stacks (trained as one model each)")
    for column, justify in (("stack", "right"), ("trials", "right"), ("variants", "left"), ("seeds", "left"),
                            ("params/trial", "right"), ("est. memory", "right")):
        table.add_column(column, justify=justify)
    for number, stack in enumerate(stacks, start=1):
        seeds = stack["seeds"]
        table.add_row(str(number), str(stack["trials"]), _shorten(stack["variants"]),
                      f"{seeds[0]}-{seeds[-1]}" if len(seeds) > 1 else str(seeds[0]),
                      f"{stack['params']:,}", _mib(stack["memory_bytes"]))
    console.print(table)


def _shorten(names: list[str], keep: int = 3) -> str:
    shown = ", ".join(names[:keep])
    return shown + (f" (+{len(names) - keep} more)" if len(names) > keep else "")


def print_plan(plan: Plan, statuses: dict[str, str], console: Console,
               why: dict[str, str] | None = None) -> None:
    """The plan as a rich table with a one-line summary above it and budget exclusions below."""
    study = plan.study
    distinct = plan.keys()
    to_train = plan.trials_to_train()
    stored = sum(1 for k in distinct if k in statuses)
    left = sum(1 for t in to_train if statuses.get(t.key) not in _FINISHED)
    training = (f"nothing left to train (all {len(to_train)} within budget are stored)" if not left else
                f"{left} left to train of {len(to_train)} within budget, {stored} in the store")
    console.print(f"[bold]{study.name}[/bold]" + (f": {study.description}" if study.description else ""))
    console.print(
        f"{study.design}: {len(plan.variants)} variants x {len(plan.seeds)} "
        f"seed{'' if len(plan.seeds) == 1 else 's'} "
        f"(seeds {', '.join(map(str, plan.seeds))}) = {len(plan.trials)} trials, "
        f"{len(distinct)} distinct; {training} (engine {plan.engine_version})",
        highlight=False,
    )
    from hyperlab.proposers import describe  # what the design decides at run time (a search's configurations)

    proposed = describe(study)
    if proposed:
        console.print(proposed, highlight=False)
    table = Table(show_lines=False, header_style="bold")
    table.add_column("variant", no_wrap=True)
    for column, justify in (("factor", "left"), ("level", "left"), ("params", "right"), ("MACs", "right"),
                            ("FLOPs", "right"), ("budget", "left"), ("trials", "right"), ("stored", "left")):
        table.add_column(column, justify=justify)
    baseline_keys = next((v.keys for v in plan.variants if v.is_baseline), ())
    for v in plan.variants:
        trials = str(len(v.keys))
        if v.keys == baseline_keys and not v.is_baseline:
            trials += " (= baseline)"
        table.add_row(
            f"[bold]{v.name}[/bold]" if v.is_baseline else v.name,
            v.factor or "-", v.level or "-", f"{v.params:,}", si(v.macs), si(v.flops),
            "ok" if v.budget_ok else "[red]over[/red]", trials, _stored(v.keys, statuses),
        )
    console.print(table)
    print_stacks(plan, console)
    declined = not_stacked(plan)
    if declined:
        console.print("Trained one at a time (the stacked path declines them):", highlight=False)
        for name, reason in declined.items():
            console.print(f"  {name}: {reason}", highlight=False, soft_wrap=True)
    changed = [t for t in plan.trials if (why or {}).get(t.key) == DATA_CHANGED]
    if changed:
        names = ", ".join(f"{t.variant} seed {t.seed}" for t in changed)
        console.print(f"Pending again, {DATA_CHANGED}: {names}", highlight=False, soft_wrap=True)
    over = [v for v in plan.variants if not v.budget_ok]
    if over:
        console.print("Not trained (over budget):", highlight=False)
        for v in over:
            console.print(f"  {v.name}: {v.budget_reason}", highlight=False)
