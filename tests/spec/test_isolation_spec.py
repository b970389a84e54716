"""Isolation study files (design = "isolation"): a valid one loads with its scientific levels and
nuisance space; malformed roles each give exit 2 and one line naming the key."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_text import BASE, edit

from hyperlab.cli.app import main
from hyperlab.plan import make_plan
from hyperlab.spec import isolation_space, load_study

ISOLATION = """\
name = "tiny-isolation"
design = "isolation"
seeds = [0]

[isolation]
trials_per_level = 4
sampler = "qmc"
confirm_seeds = 3

[data]
dataset = "digits"
subset = 200

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = 2
batch_size = 32
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }

[[factor]]
name = "batch size"
role = "scientific"
path = "train.batch_size"
levels = [16, 64]

[[factor]]
name = "lr"
role = "nuisance"
path = "train.optimizer.lr"
range = [1e-3, 0.3]
log = true

[[factor]]
name = "momentum"
role = "nuisance"
path = "train.optimizer.momentum"
choices = [0.0, 0.9]
"""


def test_an_isolation_study_loads_with_its_levels_and_nuisance_space(tmp_path: Path) -> None:
    path = tmp_path / "i.toml"
    path.write_text(ISOLATION)
    study = load_study(path)
    assert study.design == "isolation" and study.isolation.trials_per_level == 4
    space, problems = isolation_space(study)
    assert problems == [] and space.scientific == "batch size"
    assert [level.label for level in space.levels] == ["16", "64"]
    assert [f.name for f in space.nuisance.factors] == ["lr", "momentum"]
    level = space.levels[1]
    config = space.level_space(level).config({"lr": 0.01, "momentum": "0.0"})
    assert (config.train.batch_size, config.train.optimizer.lr, config.train.optimizer.momentum) == (
        64, 0.01, 0.0)
    fixed = space.level_config(level)
    assert (fixed.train.batch_size, fixed.train.optimizer.lr) == (64, 0.05)
    assert space.baseline_values() == {"lr": 0.05, "momentum": "0.9"}
    assert len(make_plan(study).trials) == 1  # the plan holds the baseline; the searches run at run time


CASES: list[tuple[str, str, list[str]]] = [
    ("no-role", edit(ISOLATION, ('role = "nuisance"\npath = "train.optimizer.lr"',
                             'path = "train.optimizer.lr"')),
     ["factor[1].role", "needs a role"]),
    ("unknown-role", edit(ISOLATION, ('role = "scientific"', 'role = "science"')), ["factor[0].role"]),
    ("two-scientific", edit(ISOLATION, ('role = "nuisance"\npath = "train.optimizer.momentum"\nchoices',
                                        'role = "scientific"\npath = "train.optimizer.momentum"\nlevels')),
     ["exactly one factor with role = \"scientific\", got 2"]),
    ("scientific-with-range", edit(ISOLATION, ("levels = [16, 64]", "range = [16, 64]")),
     ["factor[0]", "scientific factor gives levels"]),
    ("nuisance-with-levels", edit(ISOLATION, ("choices = [0.0, 0.9]", "levels = [0.0, 0.9]")),
     ["factor[2].levels", "range or choices"]),
    ("search-table", edit(ISOLATION, ("[isolation]", "[search]\ntrials = 3\n\n[isolation]")),
     ["search:", "[isolation] table, not [search]"]),
    ("sampler", edit(ISOLATION, ('sampler = "qmc"', 'sampler = "cmaes"')),
     ["isolation.sampler", "qmc, tpe"]),
    ("confirm-seeds", edit(ISOLATION, ("confirm_seeds = 3", "confirm_seeds = 1")),
     ["isolation.confirm_seeds", ">= 2"]),
    ("bad-level", edit(ISOLATION, ("levels = [16, 64]", "levels = [16, 0]")),
     ["factor[0].levels[1]", "train.batch_size"]),
    ("role-in-ablation", edit(BASE, ("levels = [0.01, 0.1]", 'levels = [0.01, 0.1]\nrole = "nuisance"')),
     ["factor[0].role", 'role is for design = "isolation"']),
    ("isolation-table-in-ablation", edit(BASE, ("seeds = 2",
                                                "seeds = 2\n[isolation]\ntrials_per_level = 3")),
     ["isolation:", 'is for design = "isolation"']),
]


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_isolation_file_is_one_line_and_exit_2(tmp_path: Path, capsys, text: str,
                                                           fragments: list[str]) -> None:
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", str(path), "--workspace", str(tmp_path / "ws")])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"hyperlab: error: {path}: "), err
    for fragment in fragments:
        assert fragment in err, f"{fragment!r} not in {err!r}"
