"""The runner's one loop (ask -> register -> train -> tell) with a proposer of the caller's: it is
asked until it proposes nothing, every batch is registered before it trains, and it is told each
trial's stored status."""

from __future__ import annotations

import hyperlab
from hyperlab.plan import make_plan, tasks_of
from hyperlab.runner import run_study
from hyperlab.store import Store


class SeedBySeed:
    """The plan's trials one seed at a time (a stand-in for a design that decides as it goes)."""

    def __init__(self, study, store, plan=None) -> None:
        self._plan, self.store, self.notes = plan or make_plan(study), store, []
        self.asked: list[int] = []
        self.told: list[tuple[str, str]] = []
        self.registered_before_training: list[bool] = []
        seeds = sorted({t.seed for t in self._plan.trials})
        self.batches = [[t for t in tasks_of(self._plan) if t.seed == s] for s in seeds]

    describe = staticmethod(lambda study: None)

    def plan(self):
        return self._plan

    def propose(self, n: int):
        self.asked.append(n)
        return self.batches.pop(0) if self.batches else []

    def tell(self, task, status: str) -> None:
        self.told.append((task.key, status))

    def infeasible(self, task):
        self.registered_before_training.append(self.store.trial(task.key) is not None)
        return None

    def prune_rule(self, task):
        return None


def test_the_loop_asks_until_nothing_is_proposed_and_tells_each_stored_status(write_study, tmp_path) -> None:
    study = hyperlab.Study.load(write_study(seeds=2, epochs=1))
    made: list[SeedBySeed] = []

    def factory(spec, store, plan):
        made.append(SeedBySeed(spec, store, plan))
        return made[0]

    summary = run_study(study.spec, study.plan(), workspace=tmp_path / "ws", threads=1, report=False,
                        proposer=factory)
    assert summary.exit_code == 0
    proposer = made[0]
    assert proposer.asked == [1, 1, 1]  # two batches (seed 0, seed 1), then nothing: done
    keys = [t.key for t in tasks_of(study.plan())]
    assert sorted(k for k, _ in proposer.told) == sorted(keys) and all(proposer.registered_before_training)
    with Store.open(tmp_path / "ws") as store:
        assert {k: s for k, s in proposer.told} == store.trial_statuses(keys)
    assert {s for _, s in proposer.told} == {"completed"}
