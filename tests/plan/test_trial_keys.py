"""Trial keys: stable, content-addressed, and blind only to the keys that cannot change results."""

from __future__ import annotations

import re

import pytest
from plan_text import BASE, edit

import hyperlab.engine.version as version_module
from hyperlab.engine import ENGINE_VERSION
from hyperlab.plan import NOT_IN_KEY, make_plan, trial_key


def keys_by_trial(plan) -> dict[tuple[str, int], str]:
    return {(t.variant, t.seed): t.key for t in plan.trials}


def test_keys_are_hex_and_distinct_per_config_and_seed(study_of) -> None:
    plan = make_plan(study_of())
    assert all(re.fullmatch(r"[0-9a-f]{16}", t.key) for t in plan.trials)
    assert len(set(plan.keys())) == len(plan.trials)  # no two levels here are the same config


def test_same_study_same_keys(study_of) -> None:
    first = keys_by_trial(make_plan(study_of()))
    again = keys_by_trial(make_plan(study_of()))
    assert first == again


def test_writing_a_default_explicitly_or_reordering_keys_changes_nothing(study_of) -> None:
    explicit = edit(BASE, ("epochs = 2", 'device = "auto"\nepochs = 2\nbatch_size = 64'),
                    ("hidden = [16, 16]", 'activation = "relu"\nhidden = [16, 16]'),
                    ('optimizer = { name = "sgd", lr = 0.05 }',
                     'optimizer = { lr = 0.05, name = "sgd", momentum = 0 }'))
    assert keys_by_trial(make_plan(study_of(explicit))) == keys_by_trial(make_plan(study_of()))


def test_editing_one_level_changes_only_that_variants_keys(study_of) -> None:
    before = keys_by_trial(make_plan(study_of()))
    edited = edit(BASE, ("[[8, 8], [32, 32], [64]]", "[[8, 8], [48, 48], [64]]"))
    after = keys_by_trial(make_plan(study_of(edited)))
    changed = {k for k in before if before[k] != after.get(k)}
    assert changed == {("width=[32, 32]", 0), ("width=[32, 32]", 1)}
    assert {k for k in after if k not in before} == {("width=[48, 48]", 0), ("width=[48, 48]", 1)}


def test_adding_a_level_or_a_seed_adds_only_new_keys(study_of) -> None:
    before = set(make_plan(study_of()).keys())
    edited = edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.01, 0.1, 0.3]"))
    more_levels = set(make_plan(study_of(edited)).keys())
    assert before < more_levels and len(more_levels - before) == 2  # one new variant x two seeds
    more_seeds = make_plan(study_of(edit(BASE, ("seeds = 2", "seeds = 3"))))
    assert before < set(more_seeds.keys())
    assert {t.key for t in more_seeds.trials if t.seed == 2} == set(more_seeds.keys()) - before


@pytest.mark.parametrize("option", ["train.device=cpu", "train.threads=1", "train.eval_batch_size=128",
                                    "data.root=/somewhere/else"])
def test_where_and_how_fast_a_trial_runs_is_not_in_its_key(study_of, option) -> None:
    assert keys_by_trial(make_plan(study_of(overrides=(option,)))) == keys_by_trial(make_plan(study_of()))


@pytest.mark.parametrize("option", ["train.epochs=3", "train.precision=bf16", "data.subset=100",
                                    "data.split_seed=1", "model.batchnorm=true", "train.batch_size=32"])
def test_what_changes_results_is_in_the_key(study_of, option) -> None:
    changed = keys_by_trial(make_plan(study_of(overrides=(option,))))
    base = keys_by_trial(make_plan(study_of()))
    assert all(changed[k] != base[k] for k in base)


def test_the_engine_version_is_in_the_key(study_of, monkeypatch) -> None:
    config = make_plan(study_of()).trials[0].config
    before = trial_key(config, 0)
    monkeypatch.setattr(version_module, "ENGINE_VERSION", ENGINE_VERSION + "-next")
    assert trial_key(config, 0) != before


def test_not_in_key_names_study_keys_that_no_trial_config_has(study_of) -> None:
    study = study_of()
    dump = make_plan(study).trials[0].config.model_dump()
    for section, key in NOT_IN_KEY:
        assert key in getattr(study, section).model_dump(), f"{section}.{key} is no study-file key any more"
        assert key not in dump[section], f"{section}.{key} is a run setting but reached the trial config"
