"""`SearchProposer`: a search study (design = "search") as a proposer.

The first `propose` returns the searched configurations a killed run left unfinished (each with a
live Optuna trial, for pruning and `tell`); then the Optuna study (hyperlab.search.SearchDriver)
proposes `n` configurations at a time until `search.trials` are stored; an over-budget one is
returned too, and `infeasible(task)` gives the outcome the runner stores for it without training.
Once every searched configuration has finished, one batch of confirmation trials follows (the
best configurations and the baseline with matched seeds), then [] (done). A sampler that proposes
only stored configurations ends the search early (said in `notes`), without a confirmation stage.

With a pruner, `prune_rule(task)` is the study's `hyperlab.search.PruneRule` for the searched
trials (it rebuilds the pruner's view from the store, so every process decides alike) and None for
the confirmation stage, which is never pruned. In a stack the pruner sees the stack's trials epoch
by epoch side by side rather than one after another, so a pruner that compares a trial with the
others (median, ASHA) may decide differently than one by one.

Optuna is imported when a search proposer is built, not when the registry is read.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hyperlab.plan import Plan, TrialTask, tasks_of
from hyperlab.spec import StudySpec
from hyperlab.store import Store

if TYPE_CHECKING:
    import optuna

    from hyperlab.search import Entry, PruneRule

_START, _SEARCHING, _CONFIRMING, _DONE = "start", "searching", "confirming", "done"


def describe(study: StudySpec) -> str | None:
    """What `hyperlab plan` says of a search: its configurations are proposed at run time."""
    from hyperlab.search import describe_search

    return describe_search(study)


class SearchProposer:
    """A search study's Optuna sampler, then its confirmation stage."""

    describe = staticmethod(describe)

    def __init__(self, study: StudySpec, store: Store | None, plan: Plan | None = None) -> None:
        from hyperlab.search import PruneRule, SearchDriver

        self.study, self.store = study, store
        self.driver = SearchDriver.load(study, store) if store is not None else SearchDriver(study)
        self.rule: PruneRule | None = None if self.driver.search.pruner == "none" else PruneRule.of(study)
        self.stage = _START
        self.live: dict[str, tuple[optuna.trial.Trial, Entry]] = {}  # proposed, not yet told
        self.notes: list[str] = []

    def plan(self) -> Plan:
        """The baseline, every searched configuration, and the confirmation trials once confirming."""
        driver = self.driver
        done = driver.remaining == 0 and not driver.unfinished()
        return driver.plan(confirm=self.stage == _CONFIRMING or done)

    def propose(self, n: int) -> list[TrialTask]:
        if self.stage == _START:
            self.stage = _SEARCHING
            unfinished = self._start()
            if unfinished:
                return unfinished
        if self.stage == _SEARCHING:
            return self._search(n) or self._confirm()
        self.stage = _DONE
        return []

    def _start(self) -> list[TrialTask]:
        """Read every searched trial as the store holds it now (after a --rerun or --retry-failed),
        and return the unfinished ones."""
        driver = self.driver
        for entry in driver.entries:
            driver.refresh(entry, self.store)
        from hyperlab.search import describe_search

        self.notes.append(f"{describe_search(self.study)}; {len(driver.entries)} configurations stored, "
                          f"{driver.remaining} to propose")
        return self._tasks([(driver.resume(e), e) for e in driver.unfinished()])

    def _search(self, n: int) -> list[TrialTask]:
        driver = self.driver
        if not driver.remaining:
            return []
        proposed = driver.propose(min(max(n, 1), driver.remaining))
        if not proposed:
            self.notes.append(
                f"the sampler proposed only stored configurations {len(driver.entries)} times in a row: "
                f"the space has no more distinct configurations; stopping at {len(driver.entries)} of "
                f"{driver.search.trials}")
            self.stage = _DONE
        return self._tasks(proposed)

    def _confirm(self) -> list[TrialTask]:
        """The confirmation stage, once every searched configuration has finished (else done)."""
        if self.stage == _DONE or self.driver.unfinished():
            self.stage = _DONE
            return []
        self.stage = _CONFIRMING
        seeds = set(self.driver.confirm_seeds())
        return [t for t in tasks_of(self.plan()) if t.seed in seeds]

    def _tasks(self, batch: list[tuple[optuna.trial.Trial, Entry]]) -> list[TrialTask]:
        seed = self.driver.seed
        for trial, entry in batch:
            self.live[entry.key] = (trial, entry)
        return [TrialTask(e.key, e.variant, seed, e.config, e.data_fingerprint) for _, e in batch]

    def tell(self, task: TrialTask, status: str) -> None:
        """Tell Optuna how a searched configuration ended (read back from the store); an unfinished
        one (interrupted, lost) stays untold: the next run resumes it."""
        if task.key not in self.live:
            return  # a confirmation trial: nothing to learn from
        trial, entry = self.live.pop(task.key)
        self.driver.refresh(entry, self.store)
        if entry.finished:
            self.driver.tell(trial, entry)

    def infeasible(self, task: TrialTask) -> dict[str, Any] | None:
        """An over-budget configuration is stored as `infeasible`, with the reason; it never trains."""
        if task.key not in self.live:
            return None
        entry = self.live[task.key][1]
        self.driver.refresh(entry, self.store)
        if entry.budget_ok or entry.finished:
            return None
        return {"status": "infeasible", "params": entry.cost.params,
                "stop_reason": f"over budget: {entry.budget_reason}"}

    def prune_rule(self, task: TrialTask) -> PruneRule | None:
        return self.rule if task.key in self.live else None
