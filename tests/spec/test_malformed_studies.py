"""Malformed study files through the real CLI: exit code 2, one line per problem, each naming its key,
never a traceback."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from study_text import BASE, edit

from hyperlab.cli.app import main

# (id, study text or None for "no file", extra CLI args, one list of expected fragments per line)
CASES: list[tuple[str, str | None, list[str], list[list[str]]]] = [
    ("unknown-top-level-key",
     edit(BASE, ('design = "ablation"', 'desing = "ablation"')), [],
     [["desing: unknown key", "did you mean 'design'?", "allowed: name, description, design"]]),
    ("unknown-nested-key",
     edit(BASE, ("epochs = 2", "epoch = 2")), [],
     [["train.epoch: unknown key", "did you mean 'epochs'?", "batch_size"]]),
    ("unknown-key-in-optimizer-table",
     edit(BASE, ("momentum = 0.9", "momentum = 0.9, betas = [0.9, 0.99]")), [],
     [["train.optimizer:", "does not take 'betas'", "momentum"]]),
    ("wrong-type",
     edit(BASE, ("batch_size = 32", 'batch_size = "big"')), [],
     [["train.batch_size: must be an integer, got 'big'"]]),
    ("wrong-type-in-list",
     edit(BASE, ("hidden = [16, 16]", 'hidden = [16, "x"]')), [],
     [["model.hidden[1]: must be an integer, got 'x'"]]),
    ("out-of-range",
     edit(BASE, ("lr = 0.05", "lr = -1")), [],
     [["train.optimizer.lr: must be > 0", "got -1"]]),
    ("out-of-range-data",
     edit(BASE, ("subset = 200", "subset = 0")), [],
     [["data.subset: must be >= 1, got 0"]]),
    ("bad-enum",
     edit(BASE, ('activation = "relu"', 'activation = "rleu"')), [],
     [["model.activation: must be one of", "got 'rleu'", "did you mean 'relu'?"]]),
    ("bad-enum-or-number",
     edit(BASE, ("subset = 200", 'subset = 200\nvalidation = "tset"')), [],
     [["data.validation: must be a number or 'test', got 'tset'"]]),
    ("bad-model-kind",
     edit(BASE, ('kind = "mlp"', 'kind = "mpl"')), [],
     [["model.kind:", "mlp", "'mpl'"]]),
    ("missing-model",
     edit(BASE, ("[model]\nkind = \"mlp\"\nhidden = [16, 16]\nactivation = \"relu\"\n", "")), [],
     [["model: required key is missing"]]),
    ("bad-layer-string",
     edit(BASE, ('kind = "mlp"\nhidden = [16, 16]\nactivation = "relu"',
                 'kind = "sequential"\nlayers = ["dense 16", "relu", "blah 3"]'),
          ("[[factor]]\nname = \"width\"\npath = \"model.hidden\"\nlevels = [[8, 8], [32, 32], [64]]\n", ""),
          ('levels = [ { "model.activation" = "tanh", "model.init" = "glorot_uniform" },\n'
           '           { "model.activation" = "linear" } ]', 'path = "model.init"\nlevels = ["he_normal"]')),
     [], [["model.layers[2]:", "blah"]]),
    ("bad-factor-path",
     edit(BASE, ('path = "train.optimizer.lr"', 'path = "train.optimizer.lrr"')), [],
     [["factor[0].path:", "'train.optimizer.lrr' is not a key of the baseline", "did you mean 'lr'?"]]),
    ("factor-path-outside-trial-config",
     edit(BASE, ('path = "train.optimizer.lr"', 'path = "seeds"')), [],
     [["factor[0].path:", "must start with data., model. or train."]]),
    ("bad-level-value",
     edit(BASE, ('"model.activation" = "tanh"', '"model.activation" = "tanhh"')), [],
     [["factor[2].levels[0]: model.activation: must be one of", "did you mean 'tanh'?"]]),
    ("bad-level-value-with-path",
     edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.01, -0.1]")), [],
     [["factor[0].levels[1]: train.optimizer.lr: must be > 0", "got -0.1"]]),
    ("bad-key-in-multi-key-level",
     edit(BASE, ('"model.init" = "glorot_uniform"', '"model.inti" = "glorot_uniform"')), [],
     [["factor[2].levels[0]:", "'model.inti'", "did you mean 'init'?"]]),
    ("level-not-a-table-without-path",
     edit(BASE, ('{ "model.activation" = "linear" }', '"linear"')), [],
     [["factor[2].levels[1]: must be a table"]]),
    ("empty-levels",
     edit(BASE, ("levels = [0.01, 0.1]", "levels = []")), [],
     [["factor[0].levels: must have at least 1 item"]]),
    ("repeated-level",
     edit(BASE, ("levels = [0.01, 0.1]", "levels = [0.1, 0.1]")), [],
     [["factor[0].levels[1]: repeats levels[0]"]]),
    ("labels-count",
     edit(BASE, ("levels = [0.01, 0.1]", 'levels = [0.01, 0.1]\nlabels = ["low"]')), [],
     [["factor[0].labels: needs one label per level"]]),
    ("unknown-factor-key",
     edit(BASE, ('path = "train.optimizer.lr"', 'path = "train.optimizer.lr"\nlevel = 3')), [],
     [["factor[0].level: unknown key", "did you mean 'levels'?"]]),
    ("duplicate-factor-names",
     edit(BASE, ('name = "width"', 'name = "lr"')), [],
     [["factor[1].name: 'lr' is already the name of factor[0]"]]),
    ("bad-design",
     edit(BASE, ('design = "ablation"', 'design = "random"')), [],
     [["design: must be one of 'ablation', 'grid', 'search' or 'isolation', got 'random'"]]),
    ("seeds-zero",
     edit(BASE, ("seeds = 2", "seeds = 0")), [],
     [["seeds: must be >= 1"]]),
    ("seeds-repeated",
     edit(BASE, ("seeds = 2", "seeds = [0, 1, 1]")), [],
     [["seeds: seed 1 is listed twice"]]),
    ("bad-study-name",
     edit(BASE, ('name = "tiny"', 'name = "my study"')), [],
     [["name: must start with a letter or digit", "'my study'"]]),
    ("unknown-budget-key",
     edit(BASE, ("[train]", "[budget]\nmax_param = 1000\n\n[train]")), [],
     [["budget.max_param: unknown key", "did you mean 'max_params'?"]]),
    ("max-seconds-not-positive",
     edit(BASE, ("[train]", "[budget]\nmax_seconds = 0\n\n[train]")), [],
     [["budget.max_seconds", "must be > 0, got 0"]]),
    ("toml-syntax-error",
     edit(BASE, ("seeds = 2", "seeds = = 2")), [],
     [["line 4", "invalid TOML"]]),
    ("toml-duplicate-key",
     edit(BASE, ("seeds = 2", "seeds = 2\nseeds = 3")), [],
     [["line 5", "invalid TOML"]]),
    ("missing-file", None, [], [["no such file"]]),
    ("set-without-equals", BASE, ["--set", "train.epochs"], [["--set train.epochs: expected KEY=VALUE"]]),
    ("set-bad-value", BASE, ["--set", "train.epochs=0"],
     [["--set train.epochs=0: train.epochs: must be >= 1, got 0"]]),
    ("set-unknown-key", BASE, ["--set", "train.epohcs=5"],
     [["--set train.epohcs=5: train.epohcs: unknown key", "did you mean 'epochs'?"]]),
    ("unknown-dataset",
     edit(BASE, ('dataset = "digits"', 'dataset = "digitz"')), [],
     [["data.dataset: unknown dataset 'digitz'"]]),
    ("loss-does-not-suit-task",
     edit(BASE, ("batch_size = 32", 'batch_size = 32\nloss = "mse"')), [],
     [["train.loss:"]]),
    ("several-problems-at-once",
     edit(BASE, ("seeds = 2", "seeds = 0\ncolour = 1"), ("lr = 0.05", "lr = -1"),
          ('"model.activation" = "tanh"', '"model.activation" = "tanhh"')), [],
     [["seeds:"], ["train.optimizer.lr:"], ["colour: unknown key"],
      ["factor[2].levels[0]: model.activation", "'tanhh'"]]),
    ("several-problems-name-and-level",
     edit(BASE, ('name = "tiny"', 'name = "a b"'), ("levels = [0.01, 0.1]", "levels = [0.01, -0.1]"),
          ('"model.activation" = "tanh"', '"model.activation" = "tanhh"')), [],
     [["name:"], ["factor[0].levels[1]: train.optimizer.lr"], ["factor[2].levels[0]: model.activation"]]),
]


def run_plan(capsys: pytest.CaptureFixture, args: list[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["plan", *args])
    captured = capsys.readouterr()
    return exit_info.value.code, captured.out, captured.err


@pytest.mark.parametrize(("text", "extra", "expected"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_malformed_study_is_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                 text: str | None, extra: list[str],
                                                 expected: list[list[str]]) -> None:
    path = tmp_path / "study.toml"
    if text is not None:
        path.write_text(text, encoding="utf-8")
    code, out, err = run_plan(capsys, [str(path), "--workspace", str(tmp_path / "ws"), *extra])
    assert code == 2, err
    assert "Traceback" not in err and out == ""
    lines = err.splitlines()
    assert len(lines) == len(expected), err
    for line, fragments in zip(lines, expected, strict=True):
        assert line.startswith("hyperlab: error: "), line
        source = "--set" if any(f.startswith("--set") for f in fragments) else str(path)
        assert source in line, line
        for fragment in fragments:
            assert fragment in line, f"{fragment!r} not in {line!r}"


def test_there_are_at_least_twenty_distinct_cases() -> None:
    assert len({c[0] for c in CASES}) == len(CASES) >= 20


def test_grid_problem_is_reported_once_at_the_levels_that_clash(tmp_path: Path, capsys) -> None:
    """Each level is fine alone; [64] with two dropout rates is not. Two learning rates make two
    grid points with that clash: still one line, naming the two levels and not the learning rate."""
    text = edit(BASE, ('design = "ablation"', 'design = "grid"'),
                ('activation = "relu"', 'activation = "relu"\ndropout = 0.1'),
                ("levels = [[8, 8], [32, 32], [64]]", "levels = [[8, 8], [64]]"),
                ('levels = [ { "model.activation" = "tanh", "model.init" = "glorot_uniform" },\n'
                 '           { "model.activation" = "linear" } ]',
                 'path = "model.dropout"\nlevels = [0.2, [0.3, 0.3]]'))
    path = tmp_path / "study.toml"
    path.write_text(text, encoding="utf-8")
    code, _, err = run_plan(capsys, [str(path)])
    assert code == 2
    assert err.splitlines() == [
        f"hyperlab: error: {path}: factor[1].levels[1] & factor[2].levels[1]: model.dropout: "
        "a list needs one rate per hidden layer (1), got 2"], err


def test_not_utf8_and_directory_are_one_line(tmp_path: Path, capsys) -> None:
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"name = \"x\"\n\xff\xfe\n")
    code, _, err = run_plan(capsys, [str(binary)])
    assert code == 2 and err.count("\n") == 1 and "not UTF-8" in err
    code, _, err = run_plan(capsys, [str(tmp_path)])
    assert code == 2 and err.count("\n") == 1 and "is a directory" in err


def test_a_real_process_prints_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "study.toml"
    path.write_text(edit(BASE, ("epochs = 2", "epoch = 2")), encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "hyperlab", "plan", str(path)], capture_output=True,
                          text=True, cwd=tmp_path)
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and proc.stderr.count("\n") == 1
    expected = f"hyperlab: error: {path}: train.epoch: unknown key (did you mean 'epochs'?)"
    assert proc.stderr.startswith(expected)
    assert not (tmp_path / "hyperlab-runs").exists()  # planning never creates a workspace
