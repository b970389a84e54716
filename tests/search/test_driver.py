"""The search driver without training: the sequence of configurations is a function of the study
file, proposals are never repeated, and stored outcomes replay into Optuna as they should."""

from __future__ import annotations

import math

import optuna
import pytest

from hyperlab.search import SearchDriver
from hyperlab.spec import load_study


def objective(values: dict) -> float:
    """A known landscape: best at lr = 0.1, a little better with the wide choice."""
    return 1.0 - (math.log10(values["lr"]) + 1.0) ** 2 / 4 + (0.05 if values["width"] == "[16]" else 0.0)


def sequence(study, n: int) -> list[dict]:
    driver = SearchDriver(study)
    out = []
    for _ in range(n):
        [(trial, entry)] = driver.propose(1)
        entry.status, entry.value = "completed", objective(entry.values)
        driver.tell(trial, entry)
        out.append(entry.values)
    return out


@pytest.mark.parametrize("sampler", ["tpe", "random", "qmc", "cmaes", "gp"])
def test_the_same_file_gives_the_same_configurations(write_search, sampler: str) -> None:
    study = load_study(write_search(sampler=sampler, trials=12))
    n = 6 if sampler == "gp" else 12  # the GP's fit is the slow part
    first, second = sequence(study, n), sequence(study, n)
    assert first == second
    other = load_study(write_search(sampler=sampler, trials=12, seed=7))
    assert sequence(other, n) != first


def test_proposals_are_distinct_even_from_a_tiny_space(write_search) -> None:
    study = load_study(write_search(trials=5))
    driver = SearchDriver(study)
    driver.space = driver.space.__class__(driver.space.factors[1:], driver.space.raw, driver.space.resolved)
    proposed = driver.propose(5)  # only two distinct configurations exist (the width choices)
    assert sorted(e.values["width"] for _, e in proposed) == ["[16]", "[8]"]
    assert len({e.key for _, e in proposed}) == 2


def test_stored_outcomes_replay_with_their_state_and_constraint(write_search) -> None:
    study = load_study(write_search(trials=4, sampler="tpe"))
    driver = SearchDriver(study)
    outcomes = [("completed", 0.8, {1: 0.5, 2: 0.8}), ("pruned", None, {1: 0.1}), ("infeasible", None, {}),
                ("diverged", None, {})]
    for (trial, entry), (status, value, intermediate) in zip(driver.propose(4), outcomes, strict=True):
        entry.status, entry.value, entry.intermediate = status, value, intermediate
        driver.tell(trial, entry)
    frozen = [driver.frozen(e) for e in driver.entries]
    State = optuna.trial.TrialState
    assert [t.state for t in frozen] == [State.COMPLETE, State.PRUNED, State.COMPLETE, State.COMPLETE]
    assert frozen[0].value == 0.8 and frozen[0].intermediate_values == {1: 0.5, 2: 0.8}
    assert frozen[1].intermediate_values == {1: 0.1}
    assert [max(t.constraints.values()) > 0 for t in frozen] == [False, False, True, True]
    assert frozen[2].value == frozen[3].value == 0.8  # the penalty: the worst value seen
    live = driver.optuna_study().trials
    assert [t.state for t in live] == [t.state for t in frozen]
    assert [t.constraints for t in live] == [t.constraints for t in frozen]
