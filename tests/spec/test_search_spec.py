"""Search study files: a valid one loads with its space; 20+ malformed ones each give exit 2 and one
line naming the key, through the real CLI (`hyperlab plan`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from study_text import BASE, edit

from hyperlab.cli.app import main
from hyperlab.search import PRUNERS, SAMPLERS
from hyperlab.spec import load_study, search_space
from hyperlab.spec.study import PRUNERS as SPEC_PRUNERS
from hyperlab.spec.study import SAMPLERS as SPEC_SAMPLERS

SEARCH = """\
name = "tiny-search"
design = "search"
seeds = [0]

[search]
sampler = "tpe"
trials = 8
objective = "val_accuracy"
pruner = "median"
confirm = { top = 2, seeds = 3 }

[data]
dataset = "digits"
subset = 200

[model]
kind = "mlp"
hidden = [16]

[train]
epochs = 2
optimizer = { name = "sgd", lr = 0.05, momentum = 0.9 }

[[factor]]
name = "lr"
path = "train.optimizer.lr"
range = [1e-4, 0.3]
log = true

[[factor]]
name = "width"
path = "model.hidden"
choices = [[16], [32, 32]]

[[factor]]
name = "dropout"
path = "model.dropout"
range = [0.0, 0.5]
step = 0.1
"""


def test_a_search_study_loads_with_its_space(tmp_path: Path) -> None:
    path = tmp_path / "s.toml"
    path.write_text(SEARCH)
    study = load_study(path)
    assert study.design == "search" and study.search.trials == 8 and study.search.maximize
    space, problems = search_space(study)
    assert problems == [] and [f.kind for f in space.factors] == ["float", "categorical", "float"]
    config = space.config({"lr": 0.01, "width": "[32, 32]", "dropout": 0.2})
    assert config.model.hidden == [32, 32] and config.train.optimizer.lr == 0.01
    assert space.values_of(config) == {"lr": 0.01, "width": "[32, 32]", "dropout": 0.2}
    minimize = load_study(path, ['search.objective="val_loss"']).search
    assert not minimize.maximize


def test_the_spec_names_every_registered_sampler_and_pruner() -> None:
    assert set(SPEC_SAMPLERS) == set(SAMPLERS) and set(SPEC_PRUNERS) == set(PRUNERS)


CASES: list[tuple[str, str, list[str]]] = [
    ("sampler", edit(SEARCH, ('sampler = "tpe"', 'sampler = "bayes"')), ["search.sampler", "random, tpe"]),
    ("pruner", edit(SEARCH, ('pruner = "median"', 'pruner = "early"')), ["search.pruner", "median"]),
    ("objective", edit(SEARCH, ('objective = "val_accuracy"', 'objective = "test_accuracy"')),
     ["search.objective", "val_accuracy"]),
    ("direction", edit(SEARCH, ('objective = "val_accuracy"', 'direction = "up"')), ["search.direction"]),
    ("trials-missing", edit(SEARCH, ("trials = 8\n", "")), ["search.trials", "missing"]),
    ("trials-zero", edit(SEARCH, ("trials = 8", "trials = 0")), ["search.trials", ">= 1"]),
    ("unknown-search-key", edit(SEARCH, ("trials = 8", "trials = 8\nbudget = 3")),
     ["search.budget", "unknown"]),
    ("confirm-seeds", edit(SEARCH, ("seeds = 3 }", "seeds = 1 }")), ["search.confirm.seeds", ">= 2"]),
    ("confirm-top-over-trials", edit(SEARCH, ("top = 2", "top = 9")),
     ["search.confirm.top", "<= search.trials"]),
    ("no-search-table", edit(SEARCH, ('[search]\nsampler = "tpe"\ntrials = 8\nobjective = "val_accuracy"\n'
                                      'pruner = "median"\nconfirm = { top = 2, seeds = 3 }\n', "")),
     ["search:", "[search] table"]),
    ("levels-in-search", edit(SEARCH, ("choices = [[16], [32, 32]]", "levels = [[16], [32, 32]]")),
     ["factor[1].levels", "range or choices", 'design = "ablation" or "grid"']),
    ("range-in-ablation", edit(BASE, ("levels = [0.01, 0.1]", "range = [0.01, 0.1]")),
     ["factor[0].range", 'design = "search"', "takes levels"]),
    ("choices-in-grid", edit(edit(BASE, ('design = "ablation"', 'design = "grid"')),
                             ("levels = [[8, 8], [32, 32], [64]]", "choices = [[8, 8], [64]]")),
     ["factor[1].choices", 'design = "search"', "grid study takes levels"]),
    ("search-table-in-ablation", edit(BASE, ("seeds = 2", "seeds = 2\n[search]\ntrials = 3")),
     ["search:", 'is for design = "search"']),
    ("range-reversed", edit(SEARCH, ("range = [1e-4, 0.3]", "range = [0.3, 1e-4]")),
     ["factor[0]", "low < high"]),
    ("range-three-values", edit(SEARCH, ("range = [1e-4, 0.3]", "range = [1e-4, 0.1, 0.3]")),
     ["factor[0]", "[low, high]"]),
    ("log-with-zero", edit(SEARCH, ("range = [1e-4, 0.3]", "range = [0.0, 0.3]")), ["factor[0]", "low > 0"]),
    ("step-with-log", edit(SEARCH, ("log = true", "log = true\nstep = 0.1")), ["factor[0]", "step"]),
    ("step-too-big", edit(SEARCH, ("step = 0.1", "step = 0.9")), ["factor[2]", "step must be > 0"]),
    ("log-with-choices", edit(SEARCH, ("choices = [[16], [32, 32]]", "choices = [[16], [32]]\nlog = true")),
     ["factor[1]", "log and step go with range"]),
    ("range-and-choices", edit(SEARCH, ("choices = [[16], [32, 32]]", "choices = [[16]]\nrange = [1, 2]")),
     ["factor[1]", "give one of levels"]),
    ("nothing-to-vary", edit(SEARCH, ("choices = [[16], [32, 32]]\n", "")), ["factor[1]", "got none"]),
    ("range-without-path", edit(SEARCH, ('path = "train.optimizer.lr"\n', "")),
     ["factor[0].path", "range factor needs"]),
    ("range-bad-path", edit(SEARCH, ('path = "train.optimizer.lr"', 'path = "train.optimizer.rate"')),
     ["factor[0].path", "not a key of the baseline"]),
    ("range-value-invalid", edit(SEARCH, ("range = [0.0, 0.5]", "range = [0.0, 1.5]")),
     ["factor[2].range", "high = 1.5", "model.dropout"]),
    ("choice-invalid", edit(SEARCH, ("choices = [[16], [32, 32]]", 'choices = [[16], ["x"]]')),
     ["factor[1].choices[1]", "model.hidden"]),
    ("choices-repeat", edit(SEARCH, ("choices = [[16], [32, 32]]", "choices = [[16], [16]]")),
     ["factor[1].choices[1]", "repeats"]),
    ("range-labels", edit(SEARCH, ("log = true", 'log = true\nlabels = ["a", "b"]')),
     ["factor[0]", "labels go with levels or choices"]),
    ("run-setting-range", edit(SEARCH, ('path = "model.dropout"', 'path = "train.threads"')),
     ["factor[2].path", "run setting"]),
]


def test_there_are_at_least_twenty_malformed_search_files() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 20


@pytest.mark.parametrize(("text", "fragments"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_malformed_search_file_is_one_line_and_exit_2(tmp_path: Path, capsys, text: str,
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


def test_every_problem_at_once(tmp_path: Path, capsys) -> None:
    text = edit(SEARCH, ('sampler = "tpe"', 'sampler = "bayes"'),
                ("range = [1e-4, 0.3]", "range = [0.3, 1e-4]"),
                ("choices = [[16], [32, 32]]", "levels = [[16], [32, 32]]"))
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SystemExit):
        main(["plan", str(path)])
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 3 and all(line.startswith("hyperlab: error: ") for line in lines), lines
