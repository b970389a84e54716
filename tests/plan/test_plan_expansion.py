"""make_plan: variant counts, names, order, cost and budget verdicts."""

from __future__ import annotations

import math

import pytest
from plan_text import BASE, edit, mlp_params

from hyperlab.errors import UserError
from hyperlab.plan import make_plan

GRID = edit(BASE, ("seeds = 2", 'seeds = 2\ndesign = "grid"'))


def test_ablation_is_the_baseline_plus_each_level_alone(study_of) -> None:
    study = study_of()
    plan = make_plan(study)
    level_counts = [len(f.levels) for f in study.factor]
    assert len(plan.variants) == 1 + sum(level_counts) == 8
    assert len(plan.trials) == len(plan.variants) * len(study.seed_list)
    assert [v.name for v in plan.variants] == [
        "baseline", "lr=0.01", "lr=0.1", "width=[8, 8]", "width=[32, 32]", "width=[64]",
        "activation=activation=tanh, init=glorot_uniform", "activation=activation=linear",
    ]
    assert [v.order for v in plan.variants] == list(range(8))
    assert [(v.factor, v.level) for v in plan.variants[:2]] == [(None, None), ("lr", "0.01")]
    assert [v.is_baseline for v in plan.variants] == [True] + [False] * 7


def test_trials_are_variants_times_sorted_seeds_in_plan_order(study_of) -> None:
    plan = make_plan(study_of(edit(BASE, ("seeds = 2", "seeds = [5, 1]"))))
    assert [(t.variant, t.seed) for t in plan.trials[:4]] == [
        ("baseline", 1), ("baseline", 5), ("lr=0.01", 1), ("lr=0.01", 5)]
    assert plan.seeds == [1, 5]
    assert all(t.config == v.config for v in plan.variants for t in plan.trials if t.variant == v.name)


def test_grid_is_the_product_of_the_levels(study_of) -> None:
    study = study_of(GRID)
    plan = make_plan(study)
    assert len(plan.variants) == math.prod(len(f.levels) for f in study.factor) == 12
    first = plan.variants[0]
    assert first.name == "lr=0.01, width=[8, 8], activation=activation=tanh, init=glorot_uniform"
    assert first.levels == {"lr": "0.01", "width": "[8, 8]",
                            "activation": "activation=tanh, init=glorot_uniform"}
    assert first.changes == {"train.optimizer.lr": 0.01, "model.hidden": [8, 8],
                             "model.activation": "tanh", "model.init": "glorot_uniform"}
    # the first factor varies slowest
    assert [v.levels["lr"] for v in plan.variants] == ["0.01"] * 6 + ["0.1"] * 6
    assert not any(v.is_baseline for v in plan.variants)  # no grid point equals the baseline


def test_grid_point_equal_to_the_baseline_is_marked(study_of) -> None:
    text = edit(GRID, ("levels = [0.01, 0.1]", "levels = [0.05, 0.1]"),
                ("levels = [[8, 8], [32, 32], [64]]", "levels = [[16, 16], [64]]"),
                ('{ "model.activation" = "linear" }', '{ "model.activation" = "relu" }'))
    plan = make_plan(study_of(text))
    marked = [v.name for v in plan.variants if v.is_baseline]
    assert marked == ["lr=0.05, width=[16, 16], activation=activation=relu"]


@pytest.mark.parametrize("design", ["ablation", "grid"])
def test_a_study_without_factors_is_its_baseline(study_of, design) -> None:
    text = edit(BASE, ("seeds = 2", f'seeds = 2\ndesign = "{design}"'))
    text = text[: text.index("[[factor]]")]
    plan = make_plan(study_of(text))
    assert [v.name for v in plan.variants] == ["baseline"] and len(plan.trials) == 2


def test_explicit_labels_name_the_variants(study_of) -> None:
    text = edit(BASE, ("levels = [0.01, 0.1]", 'levels = [0.01, 0.1]\nlabels = ["low", "high"]'))
    names = [v.name for v in make_plan(study_of(text)).variants]
    assert names[1:3] == ["lr=low", "lr=high"]


def test_a_table_level_at_a_path_replaces_the_whole_value(study_of) -> None:
    text = edit(BASE, ('path = "train.optimizer.lr"\nlevels = [0.01, 0.1]',
                       'path = "train.optimizer"\nlevels = [{ name = "adam", lr = 0.001 }, "rmsprop"]'))
    plan = make_plan(study_of(text))
    adam, rmsprop = plan.variants[1], plan.variants[2]
    assert adam.name == "lr=name=adam, lr=0.001" and rmsprop.name == "lr=rmsprop"
    assert adam.config.train.optimizer.name == "adam" and adam.config.train.optimizer.lr == 0.001
    assert rmsprop.config.train.optimizer.name == "rmsprop"


def test_a_table_inside_a_multi_key_level_sets_only_the_keys_it_names(study_of) -> None:
    text = edit(BASE, ('{ "model.activation" = "linear" }', '{ train = { optimizer = { lr = 0.2 } } }'))
    variant = make_plan(study_of(text)).variants[-1]
    assert variant.changes == {"train.optimizer.lr": 0.2}
    assert variant.config.train.optimizer.name == "sgd" and variant.config.train.optimizer.lr == 0.2


def test_cost_is_measured_from_the_built_model(study_of) -> None:
    plan = make_plan(study_of())
    by_name = {v.name: v for v in plan.variants}
    assert by_name["baseline"].params == mlp_params([64, 16, 16, 10])  # digits: 8x8 inputs, 10 classes
    assert by_name["width=[64]"].params == mlp_params([64, 64, 10])
    assert by_name["lr=0.1"].params == by_name["baseline"].params
    assert by_name["baseline"].macs == 64 * 16 + 16 * 16 + 16 * 10
    assert by_name["baseline"].flops > 2 * by_name["baseline"].macs  # biases and activations on top


def test_budget_verdicts_name_every_limit_exceeded(study_of) -> None:
    limit = mlp_params([64, 16, 16, 10])
    text = edit(BASE, ("[train]", f"[budget]\nmax_params = {limit}\nmax_macs = 5000\n\n[train]"))
    plan = make_plan(study_of(text))
    over = {v.name: v.budget_reason for v in plan.variants if not v.budget_ok}
    assert set(over) == {"width=[32, 32]", "width=[64]"}
    assert over["width=[32, 32]"] == (f"params {mlp_params([64, 32, 32, 10]):,} > max_params {limit:,}")
    assert over["width=[64]"] == (f"params {mlp_params([64, 64, 10]):,} > max_params {limit:,}")
    assert all(not t.budget_ok for t in plan.trials if t.variant in over)
    assert {t.variant for t in plan.trials_to_train()} == {v.name for v in plan.variants} - set(over)
    text = edit(text, ("max_macs = 5000", "max_macs = 1000"))
    over = {v.name: v.budget_reason for v in make_plan(study_of(text)).variants if not v.budget_ok}
    assert over["width=[64]"].endswith(f"; MACs {64 * 64 + 64 * 10:,} > max_macs 1,000")


def test_a_model_that_does_not_fit_the_data_is_a_user_error_naming_the_level(study_of) -> None:
    sequential = 'kind = "sequential"\nlayers = ["conv 4 k3", "flatten"]'
    text = edit(BASE, ('kind = "mlp"\nhidden = [16, 16]', sequential),
                ('path = "model.hidden"\nlevels = [[8, 8], [32, 32], [64]]',
                 'path = "model.layers"\nlevels = [["conv 4 k3", "conv 4 k9", "flatten"]]'))
    text = text[: text.index("[[factor]]\nname = \"activation\"")]
    study = study_of(text)
    with pytest.raises(UserError) as info:
        make_plan(study)
    lines = str(info.value).splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{study.source}: factor[1].levels[0]: model.layers[1]"), lines


def test_level_equal_to_the_baseline_shares_its_trials(study_of) -> None:
    plan = make_plan(study_of(edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.01, 0.05]"))))
    same = next(v for v in plan.variants if v.name == "lr=0.05")
    assert same.keys == plan.variants[0].keys
    assert len(plan.keys()) == len(plan.trials) - 2
    assert len(plan.trials_to_train()) == len(plan.keys())
