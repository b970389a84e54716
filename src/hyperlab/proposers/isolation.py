"""`IsolationProposer`: an isolation study (design = "isolation") as a proposer.

The scientific factor's question ("does the batch size matter?") is confounded at fixed nuisance
values (a smaller batch also takes more steps at the same learning rate). So, at each scientific
level, the nuisance factors are searched (`[isolation] trials_per_level` configurations, one seed
each, the search seed; an Optuna sampler per level, hyperlab.search.SearchDriver over that level's
space); once every level's search has finished, one confirmation batch follows: each level's best
nuisance setting ("re-tuned", chosen on validation data) and the baseline's nuisance values at that
level ("fixed") are re-run with `confirm_seeds` matched seeds, seed k on its own validation split
(`data.split_seed` + k, never the split the search selected on). The analysis
(hyperlab.analysis.isolation) compares the levels both ways with the paired tests.

The store is the one record: each run rebuilds every level's search from the study's stored trials
(registration order), first returns the searched trials a killed run left unfinished, then asks each
level's sampler for what is still missing. With `qmc` (Optuna's QMCSampler, Sobol, unscrambled) the
points do not depend on outcomes, so a resumed study trains exactly the configurations an
uninterrupted one trains; `tpe` and `random` resume deterministically from what is stored.

Variant names: searched "<factor>=<level>: <nuisance>=<value>, ...", confirmation
"<factor>=<level> (re-tuned)" and "<factor>=<level> (fixed)".
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperlab.data.fingerprint import data_fingerprint
from hyperlab.engine import TrialConfig
from hyperlab.plan import Plan, PlannedTrial, TrialTask, Variant, tasks_of, trial_key, variant_cost
from hyperlab.spec import StudySpec
from hyperlab.spec.isolation import IsolationSpace, isolation_space
from hyperlab.spec.study import Confirm, Isolation, Search
from hyperlab.store import Store

if TYPE_CHECKING:
    import optuna

    from hyperlab.search import Entry, SearchDriver
    from hyperlab.spec.variants import Level

RETUNED, FIXED = "re-tuned", "fixed"
_START, _SEARCHING, _CONFIRMING, _DONE = "start", "searching", "confirming", "done"
LEVEL_SEED_STRIDE = 7919  # each level's sampler seed: isolation.seed + stride * level index


def settings(study: StudySpec) -> Isolation:
    """The study's [isolation] table (all defaults when the file leaves it out)."""
    return study.isolation or Isolation()


def searched_name(space: IsolationSpace, level: Level, nuisance_name: str) -> str:
    return f"{space.scientific}={level.label}: {nuisance_name}"


def confirmed_name(space: IsolationSpace, level: Level, kind: str) -> str:
    return f"{space.scientific}={level.label} ({kind})"


def confirm_seeds(study: StudySpec) -> list[int]:
    """The confirmation stage's seeds: the search seed + 1 .. + confirm_seeds."""
    seed = study.seed_list[0]
    return [seed + k for k in range(1, settings(study).confirm_seeds + 1)]


def held_out(config: TrialConfig, k: int) -> TrialConfig:
    """`config` on the k-th confirmation split: data.split_seed + k (k >= 1, never the search's)."""
    data = config.data.model_copy(update={"split_seed": config.data.split_seed + k})
    return config.model_copy(update={"data": data})


def describe(study: StudySpec) -> str | None:
    """What `hyperlab plan` says of an isolation study: its searches run at run time."""
    iso = settings(study)
    scientific = next(f for f in study.factor if f.role == "scientific")
    nuisance = ", ".join(f.name for f in study.factor if f.role == "nuisance")
    n_levels = len(scientific.levels or [])
    return (f"isolation: at each of the {n_levels} levels of {scientific.name}, {nuisance} searched with "
            f"{iso.trials_per_level} {iso.sampler} configurations (seed {study.seed_list[0]}, objective "
            f"{iso.objective}), then each level's best and its baseline-{nuisance} setting x "
            f"{iso.confirm_seeds} matched seeds on new validation splits: "
            f"{n_levels * iso.trials_per_level} + {2 * n_levels * iso.confirm_seeds} trials")


class IsolationProposer:
    """Per scientific level a nuisance search, then the matched-seed confirmation of every level."""

    describe = staticmethod(describe)

    def __init__(self, study: StudySpec, store: Store | None, plan: Plan | None = None) -> None:
        space, problems = isolation_space(study)
        assert space is not None, problems  # load_study reported them
        self.study, self.store, self.space = study, store, space
        self.iso = settings(study)
        self.seed = study.seed_list[0]
        self.drivers = [self._driver(i, level) for i, level in enumerate(space.levels)]
        self.stage = _START
        self.live: dict[str, tuple[optuna.trial.Trial, Entry, SearchDriver]] = {}
        self.notes: list[str] = []
        self._fingerprints: dict[str, str] = {}

    # --- each level's search, rebuilt from the store ------------------------------------------------
    def _driver(self, index: int, level: Level) -> SearchDriver:
        from hyperlab.search import SearchDriver

        iso = self.iso
        search = Search(sampler=iso.sampler, trials=iso.trials_per_level, objective=iso.objective,
                        direction=iso.direction, pruner="none", seed=iso.seed + LEVEL_SEED_STRIDE * index,
                        confirm=Confirm(top=0))
        spec = self.study.model_copy(update={"design": "search", "search": search, "isolation": None})
        driver = SearchDriver(spec, self.space.level_space(level))
        if self.store is None or self.store.study(self.study.name) is None:
            return driver
        prefix = searched_name(self.space, level, "")
        orders = {v["variant"]: v["order"] for v in self.store.variants(self.study.name)}
        rows = sorted((r for r in self.store.study_trials(self.study.name)
                       if r["seed"] == self.seed and r["variant"].startswith(prefix)),
                      key=lambda r: orders.get(r["variant"], 0))
        for row in rows:
            stored = self.store.trial(row["key"])
            entry = driver._entry(TrialConfig.from_stored(stored["config"]), timed=False)
            entry.variant = row["variant"]
            driver.entries.append(entry)
            driver.refresh(entry, self.store)
            if entry.status == "infeasible" and entry.budget_ok:  # over max_seconds, as stored
                entry.budget_ok = False
                entry.budget_reason = (stored.get("stop_reason") or "").removeprefix("over budget: ") or None
        return driver

    # --- the proposer protocol -----------------------------------------------------------------------
    def propose(self, n: int) -> list[TrialTask]:
        if self.stage == _START:
            self.stage = _SEARCHING
            for driver in self.drivers:  # as the store holds them now (after a --rerun or --retry-failed)
                for entry in driver.entries:
                    driver.refresh(entry, self.store)
            stored = sum(len(d.entries) for d in self.drivers)
            self.notes.append(f"{describe(self.study)}; {stored} searched configurations stored")
            unfinished = [(None, e, d) for d in self.drivers for e in d.unfinished()]
            if unfinished:  # trained before the samplers are rebuilt, so that they see the outcomes
                return self._tasks(unfinished)
        if self.stage == _SEARCHING:
            batch = self._search(n)
            if batch:
                return batch
            return self._confirm()
        self.stage = _DONE
        return []

    def _search(self, n: int) -> list[TrialTask]:
        """Up to n new configurations, from the first levels that still have some to search."""
        batch: list[tuple[Any, Entry, SearchDriver]] = []
        for level, driver in zip(self.space.levels, self.drivers, strict=True):
            want = min(max(n, 1) - len(batch), driver.remaining)
            if want <= 0:
                continue
            proposed = driver.propose(want)
            if len(proposed) < want:
                self.notes.append(f"{self.space.scientific}={level.label}: the sampler proposed only stored "
                                  f"configurations: the nuisance space has no more distinct ones; stopping "
                                  f"at {len(driver.entries)} of {driver.search.trials}")
                driver.search = driver.search.model_copy(update={"trials": len(driver.entries)})
            for trial, entry in proposed:
                entry.variant = searched_name(self.space, level, entry.variant)
                batch.append((trial, entry, driver))
            if len(batch) >= max(n, 1):
                break
        return self._tasks(batch)

    def _confirm(self) -> list[TrialTask]:
        """Every level's confirmation trials, once every search has finished (else done)."""
        if self.stage == _DONE or any(d.unfinished() or d.remaining for d in self.drivers):
            self.stage = _DONE
            return []
        self.stage = _CONFIRMING
        seeds = set(confirm_seeds(self.study))
        return [t for t in tasks_of(self.plan()) if t.seed in seeds]

    def _tasks(self, batch: list[tuple[Any, Entry, SearchDriver]]) -> list[TrialTask]:
        out = []
        for trial, entry, driver in batch:
            if trial is not None:
                self.live[entry.key] = (trial, entry, driver)
            out.append(TrialTask(entry.key, entry.variant, self.seed, entry.config, entry.data_fingerprint))
        return out

    def tell(self, task: TrialTask, status: str) -> None:  # noqa: ARG002 - the store says it all
        """Tell a level's sampler how a searched configuration ended (read back from the store)."""
        if task.key not in self.live:
            for driver in self.drivers:  # a resumed trial without a live Optuna trial: refresh only
                for entry in driver.entries:
                    if entry.key == task.key:
                        driver.refresh(entry, self.store)
            return
        trial, entry, driver = self.live.pop(task.key)
        driver.refresh(entry, self.store)
        if entry.finished:
            driver.tell(trial, entry)

    def infeasible(self, task: TrialTask) -> dict[str, Any] | None:
        """An over-budget configuration is stored as `infeasible`, with the reason; it never trains."""
        if task.key not in self.live:
            return None
        entry, driver = self.live[task.key][1], self.live[task.key][2]
        driver.refresh(entry, self.store)
        if entry.budget_ok or entry.finished:
            return None
        return {"status": "infeasible", "params": entry.cost.params,
                "stop_reason": f"over budget: {entry.budget_reason}"}

    def prune_rule(self, task: TrialTask) -> Any:  # noqa: ARG002 - an isolation search is never pruned
        return None

    # --- what the store holds ------------------------------------------------------------------------
    def best(self, driver: SearchDriver) -> Entry | None:
        ranked = driver.ranked()
        return ranked[0] if ranked else None

    def plan(self) -> Plan:
        """Every searched configuration (one trial each, the search seed) and, once every search has
        finished, the confirmation trials of every level (re-tuned and fixed, matched seeds)."""
        variants: list[Variant] = []
        trials: list[PlannedTrial] = []
        name = self.space.scientific
        for level, driver in zip(self.space.levels, self.drivers, strict=True):
            for entry in driver.entries:
                variants.append(Variant(entry.variant, name, level.label, {name: level.label},
                                        driver.space.changes_of(entry.values), entry.config, False,
                                        len(variants), entry.cost, entry.budget_ok, entry.budget_reason,
                                        (entry.key,)))
                # Registered even when over budget: the trial is stored as `infeasible`, with the reason.
                trials.append(PlannedTrial(entry.key, entry.variant, name, level.label, self.seed,
                                           entry.config, True, entry.budget_reason, False,
                                           entry.data_fingerprint))
        seeds = confirm_seeds(self.study)
        done = all(not d.remaining and not d.unfinished() for d in self.drivers)
        if self.stage in (_CONFIRMING, _DONE) or done:
            for level, driver in zip(self.space.levels, self.drivers, strict=True):
                best = self.best(driver)
                configs = [(RETUNED, best.config if best is not None else None),
                           (FIXED, self.space.level_config(level))]
                for kind, config in configs:
                    if config is None:
                        continue
                    self._confirmation(level, kind, config, seeds, variants, trials)
        return Plan(self.study, variants, trials, [self.seed, *seeds])

    def _confirmation(self, level: Level, kind: str, config: TrialConfig, seeds: list[int],
                      variants: list[Variant], trials: list[PlannedTrial]) -> None:
        name = confirmed_name(self.space, level, kind)
        cost = variant_cost(config)
        keyed = []
        for k, seed in enumerate(seeds, start=1):
            held = held_out(config, k)
            fingerprint = self._fingerprint(held)
            keyed.append((trial_key(held, seed, fingerprint), seed, held, fingerprint))
        factor = self.space.scientific
        variants.append(Variant(name, factor, level.label, {factor: level.label}, {}, config, False,
                                len(variants), cost, True, None, tuple(k for k, *_ in keyed)))
        trials += [PlannedTrial(key, name, factor, level.label, seed, held, True, None, False, fingerprint)
                   for key, seed, held, fingerprint in keyed]

    def _fingerprint(self, config: TrialConfig) -> str:
        data_json = config.data.model_dump_json()
        if data_json not in self._fingerprints:
            self._fingerprints[data_json] = data_fingerprint(config.data)
        return self._fingerprints[data_json]
