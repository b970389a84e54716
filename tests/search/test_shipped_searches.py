"""The shipped search studies plan: their spaces validate, the driver proposes configurations and
costs them, and the docs' search example has a valid space."""

from __future__ import annotations

import re
from pathlib import Path

from hyperlab.search import SearchDriver
from hyperlab.spec import load_study, search_space

ROOT = Path(__file__).resolve().parents[2]


def test_the_cifar10_search_plans_seed_000s_knobs_as_a_space() -> None:
    # A real CIFAR-10 search takes hours on this machine; this checks the file plans.
    study = load_study(ROOT / "studies" / "cifar10-mlp-search.toml")
    driver = SearchDriver(study)
    assert [f.name for f in driver.space.factors] == ["depth", "learning rate", "batch size", "activation",
                                                      "momentum", "output L2", "dropout 0.2"]
    assert [f.kind for f in driver.space.factors] == ["categorical", "float", "int", "categorical", "float",
                                                      "categorical", "categorical"]
    plan = driver.plan()
    assert [v.name for v in plan.variants] == ["baseline"] and plan.variants[0].params == 104_298
    proposed = driver.propose(3)
    assert len({e.key for _, e in proposed}) == 3
    for _, entry in proposed:
        assert 32 <= entry.config.train.batch_size <= 1024 and entry.budget_ok
        assert entry.cost.params > 0
    assert driver.confirm_seeds() == [1, 2, 3]


def test_the_digits_search_is_quickstart_sized() -> None:
    study = load_study(ROOT / "studies" / "digits-search.toml")
    driver = SearchDriver(study)
    assert study.search.trials <= 24 and study.train.epochs <= 12 and study.data.dataset == "digits"
    assert len(driver.plan().variants) == 1


def test_the_docs_search_example_has_a_valid_space(tmp_path: Path) -> None:
    text = (ROOT / "docs" / "study-file.md").read_text(encoding="utf-8")
    blocks = [b for b in re.findall(r"^```toml\n(.*?)^```", text, re.MULTILINE | re.DOTALL)
              if 'design = "search"' in b]
    assert blocks
    for block in blocks:
        path = tmp_path / "example.toml"
        path.write_text(block, encoding="utf-8")
        study = load_study(path)
        space, problems = search_space(study)
        assert problems == [] and space is not None
        for key in ("sampler", "trials", "objective", "direction", "pruner", "seed", "confirm"):
            assert re.search(rf"^{key} = ", block, re.MULTILINE), key
        assert {"range", "choices", "log", "step", "labels", "max_params", "max_seconds"} <= set(
            re.findall(r"^(\w+) = ", block, re.MULTILINE))
        assert study.budget is not None and study.budget.max_seconds == 120


def test_plan_says_what_a_search_will_train(capsys) -> None:
    from hyperlab.cli.app import main

    try:
        main(["plan", str(ROOT / "studies" / "digits-search.toml")])
    except SystemExit as exc:  # typer may end with SystemExit(0)
        assert exc.code in (0, None)
    out = capsys.readouterr().out
    assert "20 configurations of learning rate, width, dropout, momentum" in " ".join(out.split())
    assert "the 3 best and the baseline x 10 seeds" in " ".join(out.split())
