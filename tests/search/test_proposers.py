"""The proposers (hyperlab.proposers): every design the spec allows has one, a plan's proposer gives
its whole plan once, and a search's proposer rebuilds itself from the store, so a run killed after
registering a batch resumes that batch instead of proposing new configurations."""

from __future__ import annotations

import typing

import hyperlab
from hyperlab.plan import tasks_of
from hyperlab.proposers import PROPOSERS, PlanProposer, SearchProposer, describe, proposer_for
from hyperlab.runner import register
from hyperlab.spec.study import StudySpec
from hyperlab.store import Store


def test_every_design_the_spec_allows_has_a_proposer() -> None:
    designs = typing.get_args(StudySpec.model_fields["design"].annotation)
    assert set(designs) == set(PROPOSERS)


def test_a_plan_proposer_proposes_its_whole_plan_once(write_search, tmp_path) -> None:
    path = tmp_path / "ablation.toml"  # the search study's baseline, its factors as ablation levels
    text = write_search().read_text().replace('design = "search"', 'design = "ablation"')
    text = text.replace("range = [0.01, 0.5]\nlog = true", "levels = [0.1, 0.2]")
    path.write_text(text.replace("choices = [[8], [16]]", "levels = [[8]]").replace(
        text[text.index("[search]"):text.index("[data]")], ""))
    study = hyperlab.Study.load(path)
    proposer = proposer_for(study.spec, None, study.plan())
    assert isinstance(proposer, PlanProposer) and proposer.plan() is study.plan()
    first = proposer.propose(1)  # whatever n: a plan is proposed whole
    assert [t.key for t in first] == [t.key for t in tasks_of(study.plan())] and len(first) == 4
    assert proposer.propose(5) == []
    assert proposer.prune_rule(first[0]) is None and proposer.infeasible(first[0]) is None
    assert describe(study.spec) is None


def test_a_search_proposer_resumes_the_batch_a_killed_run_registered(write_search, tmp_path) -> None:
    study = hyperlab.Study.load(write_search(trials=4, pruner="median"))
    with Store.open(tmp_path / "ws") as store:
        first = SearchProposer(study.spec, store)
        batch = first.propose(2)
        assert len(batch) == 2 and all(first.prune_rule(t) is first.rule for t in batch)
        plan = first.plan()  # what the runner registers before training the batch
        store.register_study(register.study_row(study.spec, plan), register.variant_rows(plan),
                             register.trial_rows(plan))
        assert {t.key for t in batch} <= {t.key for t in plan.trials}
        # The run is killed here: the next run's proposer is rebuilt from the store alone.
        second = SearchProposer(study.spec, store)
        resumed = second.propose(2)
        assert [t.key for t in resumed] == [t.key for t in batch]
        assert second.notes and "2 configurations stored, 2 to propose" in second.notes[0]
        fresh = second.propose(2)  # then new configurations, never a stored one
        assert len(fresh) == 2 and not {t.key for t in fresh} & {t.key for t in batch}
        assert second.propose(2) == []  # 4 configurations stored, none finished: no confirmation yet
    assert "search: 4 configurations" in describe(study.spec)
